"""The field day of issue 5, through the generated Python bindings and the C ABI, against a
real server: a merchandiser audits a store and captures shelf photos with no signal, a rep
files an order with no signal, both sync when the network is back, a supervisor on a third
device approves the visit and the order, the authors' devices show the approvals, and an edit
of the approved visit is refused with a typed error."""

import os
import tempfile
import unittest

import support
from support import fieldsync

VisitStep = fieldsync.VisitStep
VisitStatus = fieldsync.VisitStatus
OrderStatus = fieldsync.OrderStatus
FieldsyncError = fieldsync.FieldsyncError


class FieldDay(unittest.TestCase):
    def setUp(self):
        photos = tempfile.TemporaryDirectory(prefix="fieldsync-gallery-")
        self.addCleanup(photos.cleanup)
        self.gallery = photos.name

    def phone(self, username):
        """A phone signed in through its own network (a relay), master data synced."""
        relay = support.Relay(support.SERVER_URL)
        self.addCleanup(relay.cut)
        device = support.logged_in_device(self, username, relay.url)
        return device, relay

    def test_offline_visit_and_order_then_remote_approval(self):
        # --- merch1 loses signal inside the hypermarket -------------------------------------
        merch, merch_net = self.phone("merch1")
        merch_net.cut()
        with self.assertRaises(FieldsyncError.Offline):
            support.wait(merch.sync_now())

        store = merch.store_by_code("NKA-001")
        self.assertEqual(store.code, "NKA-001")
        self.assertIn("COLA-330", [p.sku for p in merch.products()])
        at_store = fieldsync.GeoFix(lat=store.lat, lon=store.lon, accuracy_m=8.0)

        visit = merch.start_visit(store.id)
        self.assertEqual(visit.status, VisitStatus.PLANNED)
        self.assertEqual(merch.check_in(visit.id, at_store), [])

        # The shared visit rules run on the phone: no check-out before the routine is done.
        with self.assertRaises(FieldsyncError.Invalid) as refused:
            merch.check_out(visit.id, at_store)
        self.assertEqual(refused.exception.rule, "visit_timing")
        codes = {f.code for f in refused.exception.findings}
        self.assertIn("step_missing", codes)
        self.assertIn("photos_missing", codes)

        for step in VisitStep:
            if step == VisitStep.SUGGESTED_ORDER:
                merch.record_step(visit.id, step, "merchandiser: no ordering")
            else:
                merch.record_step(visit.id, step)
        merch.record_audit_line(
            visit.id,
            fieldsync.AuditInput(
                sku="COLA-330",
                location="MAIN-SHELF",
                facings=6,
                on_shelf=True,
                shelf_price_minor=350,
                oldest_production_date=support.days_from_today(-20),
            ),
        )
        merch.record_audit_line(
            visit.id,
            fieldsync.AuditInput(sku="TEA-500", location="ENDCAP-1", facings=0, on_shelf=False),
        )
        shelf = support.write_png(os.path.join(self.gallery, "shelf.png"), 48, 32, seed=5)
        endcap = support.write_jpeg_like(os.path.join(self.gallery, "endcap.jpg"), seed=9)
        first = merch.attach_photo(visit.id, shelf, VisitStep.MERCHANDISE)
        second = merch.attach_photo(visit.id, endcap, VisitStep.STORE_CHECK)
        self.assertEqual(len(first.sha256), 64)
        self.assertNotEqual(first.sha256, second.sha256)
        merch.append_note(visit.id, "TEA-500 out of stock on the endcap; backroom empty")
        merch.check_out(visit.id, at_store)
        merch.submit_visit(visit.id)

        local = merch.visit(visit.id)
        self.assertEqual(local.status, VisitStatus.SUBMITTED)
        self.assertEqual([s.step for s in local.steps], list(VisitStep))
        self.assertEqual(len(local.audit), 2)
        self.assertEqual({p.sha256 for p in local.photos}, {first.sha256, second.sha256})
        # Notes are entries (author, time, text), in order.
        self.assertEqual([n.text for n in local.notes], ["TEA-500 out of stock on the endcap; backroom empty"])
        self.assertTrue(local.notes[0].at_ms > 0 and local.notes[0].by_name)
        waiting = merch.pending()
        self.assertEqual(waiting.photos, 2)
        self.assertIn(visit.id, [d.doc_id for d in waiting.docs])

        # --- rep1 files an order with no signal ---------------------------------------------
        rep, rep_net = self.phone("rep1")
        rep_net.cut()
        shop = rep.store_by_code("NKA-001")
        products = {p.sku: p for p in rep.products()}
        cola, tea = products["COLA-330"], products["TEA-500"]
        order = rep.create_order(
            shop.id,
            support.days_from_today(shop.delivery_lead_days + 1),
            fieldsync.PaymentMethod.CASH,
        )
        self.assertEqual(order.status, OrderStatus.DRAFT)
        self.assertTrue(order.number.startswith("R001-"), order.number)
        # 12 % off list: beyond a rep's 10 % authority, above the floor: needs approval.
        discounted = cola.list_price_minor * 88 // 100
        findings = rep.set_order_line(order.id, "COLA-330", cola.case_pack * 2, discounted)
        self.assertIn("discount_beyond_authority", [f.code for f in findings])
        self.assertEqual(findings[0].severity, fieldsync.Severity.NEEDS_APPROVAL)
        self.assertEqual(rep.set_order_line(order.id, "TEA-500", tea.case_pack), [])
        submitted = rep.submit_order(order.id)
        self.assertEqual(submitted.status, OrderStatus.PENDING_APPROVAL)
        self.assertEqual(len(submitted.lines), 2)
        with self.assertRaises(FieldsyncError.Offline):
            support.wait(rep.sync_now())
        self.assertEqual(rep.pending().documents, 1)

        # --- the network is back: both phones sync -------------------------------------------
        merch_net.restore()
        rep_net.restore()
        pushed = support.wait(merch.sync_now())
        self.assertEqual(pushed.photos_uploaded, 2)
        self.assertGreaterEqual(pushed.docs_pushed, 1)
        self.assertEqual(pushed.refused, [])
        self.assertEqual(merch.pending().documents, 0)
        self.assertEqual(merch.pending().photos, 0)
        self.assertTrue(support.wait(rep.sync_now()).docs_pushed >= 1)
        self.assertEqual(rep.pending().documents, 0)

        # --- sup1 reviews remotely on a third device ----------------------------------------
        sup = support.logged_in_device(self, "sup1")
        review = sup.visits_awaiting_review()
        mine = [v for v in review if v.id == visit.id]
        self.assertEqual(len(mine), 1, [v.id for v in review])
        self.assertEqual(len(mine[0].photos), 2)
        self.assertEqual(len(mine[0].audit), 2)
        # The review screen shows the shelf: the thumbnail of the photo (a JPEG).
        thumbnail = support.wait(sup.photo_thumbnail(first.sha256))
        self.assertEqual(bytes(thumbnail[:2]), b"\xff\xd8")
        # A rejection must say what to rework: the write policy refuses it on the device.
        with self.assertRaises(FieldsyncError.Forbidden) as forbidden:
            sup.reject_visit(visit.id, "")
        self.assertEqual(forbidden.exception.code, "comment_required")
        sup.approve_visit(visit.id, "Good shelf, fix the TEA-500 gap")
        self.assertIn(order.id, [o.id for o in sup.orders_awaiting_approval()])
        sup.approve_order(order.id)
        support.wait(sup.sync_now())
        self.assertNotIn(visit.id, [v.id for v in sup.visits_awaiting_review()])

        # --- the authors' phones show the decisions -----------------------------------------
        support.wait(merch.sync_now())
        approved = merch.visit(visit.id)
        self.assertEqual(approved.status, VisitStatus.APPROVED)
        self.assertEqual(approved.review.decision, fieldsync.ReviewDecision.APPROVED)
        self.assertEqual(approved.review.comment, "Good shelf, fix the TEA-500 gap")
        support.wait(rep.sync_now())
        self.assertEqual(rep.order(order.id).status, OrderStatus.APPROVED)

        # --- an edit of the approved visit is refused on the phone, typed --------------------
        with self.assertRaises(FieldsyncError.Forbidden) as forbidden:
            merch.append_note(visit.id, "one more thing")
        self.assertEqual(forbidden.exception.field, "notes")
        self.assertEqual(forbidden.exception.code, "visit_frozen")
        with self.assertRaises(FieldsyncError.Forbidden) as forbidden:
            merch.record_audit_line(
                visit.id,
                fieldsync.AuditInput(sku="COLA-330", location="MAIN-SHELF", facings=1, on_shelf=True),
            )
        self.assertEqual(forbidden.exception.field, "audit")
        self.assertEqual(forbidden.exception.code, "visit_frozen")
        self.assertNotIn("one more thing", [n.text for n in merch.visit(visit.id).notes])
        self.assertEqual(merch.pending().documents, 0)


if __name__ == "__main__":
    unittest.main()
