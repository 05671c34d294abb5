"""One full key-account visit through the Python bindings against a real server (issue 15): an
administrator imports the store's must-carry range and a display agreement; the rep, with no
signal in the hypermarket, audits the shelf against the range, counts stock on the shelf and in
the back room, finds the agreed endcap not in place and photographs it, scores the store's
picture of success (the cola block not met, with the photo), notes a competitor's floor stand,
and turns the counted stock into the suggested order. Back online, the server
judges the visit as the phone did, and the supervisor's phone shows why."""

import json
import os
import tempfile
import unittest
import urllib.request

import support
from support import fieldsync

VisitStep = fieldsync.VisitStep

STORE = "NKA-001"
SUCCESS_HEADER = "code,title,store_code,chain,channel,point,label,kind,weight,sku,reference_photos\n"


def _post(path, content_type, body, token=None):
    request = urllib.request.Request(
        support.SERVER_URL + path, data=body.encode(), method="POST"
    )
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def admin_token():
    body = json.dumps(
        {"tenant": support.TENANT, "username": "admin", "password": support.PASSWORD}
    )
    return _post("/v1/auth/login", "application/json", body)["access_token"]


def import_csv(token, kind, csv):
    return _post(f"/v1/admin/import/{kind}", "text/csv", csv, token)


class KeyAccountVisit(unittest.TestCase):
    def setUp(self):
        photos = tempfile.TemporaryDirectory(prefix="fieldsync-gallery-")
        self.addCleanup(photos.cleanup)
        self.gallery = photos.name
        token = admin_token()
        import_csv(
            token,
            "assortment",
            f"store_code,sku,safety_stock\n{STORE},COLA-330,48\n{STORE},TEA-500,12\n",
        )
        import_csv(
            token,
            "promotions",
            "code,title,from,to,store_code,chain,channel,skus,mechanic,promotion_price,fee\n"
            f"KA-ENDCAP,Cola endcap,{support.days_from_today(-1)},{support.days_from_today(30)},"
            f"{STORE},,,COLA-330,endcap,,1200.00\n",
        )
        import_csv(
            token,
            "success-pictures",
            SUCCESS_HEADER
            + f"KA-POS,NKA-001 picture of success,{STORE},,,COLA-BLOCK,Cola block,shelf_blocking,3,,\n"
            + f"KA-POS,NKA-001 picture of success,{STORE},,,COLA-EYE,Cola at eye level,eye_level,1,COLA-330,\n",
        )
        # The other tests share the demo tenant: leave it without a range, promotions or
        # pictures.
        self.addCleanup(import_csv, token, "success-pictures", SUCCESS_HEADER)
        self.addCleanup(import_csv, token, "assortment", "store_code,sku\n")
        self.addCleanup(
            import_csv,
            token,
            "promotions",
            "code,title,from,to,store_code,chain,channel,skus,mechanic,promotion_price,fee\n",
        )

    def test_a_key_account_visit_offline_judged_alike_on_the_server(self):
        relay = support.Relay(support.SERVER_URL)
        self.addCleanup(relay.cut)
        rep = support.logged_in_device(self, "rep1", relay.url)
        relay.cut()

        store = rep.store_by_code(STORE)
        at_store = fieldsync.GeoFix(lat=store.lat, lon=store.lon, accuracy_m=6.0)
        visit = rep.start_visit(store.id)
        rep.check_in(visit.id, at_store)

        # The audit screen: what the store must carry, and what is missing.
        expected = [(e.sku, e.on_shelf) for e in rep.expected_range(visit.id)]
        self.assertEqual(expected, [("COLA-330", False), ("TEA-500", False)])
        rep.record_audit_line(
            visit.id,
            fieldsync.AuditInput(
                sku="COLA-330", location="MAIN-SHELF", facings=6, on_shelf=True,
                shelf_price_minor=300,
            ),
        )
        rep.record_audit_line(
            visit.id,
            fieldsync.AuditInput(sku="TEA-500", location="MAIN-SHELF", facings=0, on_shelf=False),
        )
        missing = [e.sku for e in rep.expected_range(visit.id) if not e.on_shelf]
        self.assertEqual(missing, ["TEA-500"])

        # Stock on the shelf and in the back room.
        rep.record_stock_count(visit.id, "COLA-330", 10, 5)
        rep.record_stock_count(visit.id, "TEA-500", 0, 0)

        # The agreed endcap is not there: checked with a photo as evidence.
        running = rep.active_promotions(visit.id)
        self.assertEqual([p.code for p in running], ["KA-ENDCAP"])
        self.assertIsNone(running[0].check)
        path = support.write_jpeg_like(os.path.join(self.gallery, "aisle.jpg"), seed=41)
        evidence = rep.attach_photo(visit.id, path, VisitStep.STORE_CHECK)
        rep.check_promotion(
            visit.id, "KA-ENDCAP", fieldsync.PromotionCheckStatus.NOT_IN_PLACE,
            [evidence.sha256], None, "endcap holds a competitor's stand",
        )
        check = rep.active_promotions(visit.id)[0].check
        self.assertEqual(check.status, fieldsync.PromotionCheckStatus.NOT_IN_PLACE)
        self.assertEqual(check.photo_sha256s, [evidence.sha256])

        # The picture of success: the cola block is broken (the same photo), the eye-level SKU
        # is there; weights 3 and 1 make 1 of 4.
        picture = rep.success_picture(visit.id)
        self.assertEqual([p.code for p in picture.points], ["COLA-BLOCK", "COLA-EYE"])
        rep.score_success_point(
            visit.id, "COLA-BLOCK", fieldsync.SuccessScoreStatus.NOT_MET,
            [evidence.sha256], "block broken by the competitor's stand",
        )
        rep.score_success_point(visit.id, "COLA-EYE", fieldsync.SuccessScoreStatus.MET, [])
        self.assertEqual(rep.success_picture(visit.id).score_bp, 2500)

        # What the competitor does there.
        rep.add_competitor_sighting(
            visit.id,
            fieldsync.CompetitorSightingInput(
                competitor="PepsiCo", seen="Pepsi 330ml", shelf_price_minor=250,
                promotion="buy 2 get 1", display=fieldsync.CompetitorDisplay.FLOOR_STAND,
                photo_sha256s=[evidence.sha256], note="on our endcap",
            ),
        )
        self.assertEqual(
            [s.competitor for s in rep.competitor_sightings(visit.id)], ["PepsiCo"]
        )

        # Step 5: the suggested order, from the counts (COLA-330 by the case of 24).
        suggested = [(l.sku, l.on_hand, l.quantity) for l in rep.suggested_order(visit.id)]
        self.assertEqual(suggested, [("COLA-330", 15, 48), ("TEA-500", 0, 12)])
        order = rep.create_suggested_order(
            visit.id,
            support.days_from_today(store.delivery_lead_days + 1),
            fieldsync.PaymentMethod.CASH,
        )
        self.assertEqual(order.visit_id, visit.id)
        self.assertEqual(
            [(l.sku, l.quantity) for l in order.lines], [("COLA-330", 48), ("TEA-500", 12)]
        )
        rep.set_order_line(order.id, "TEA-500", 24)
        rep.submit_order(order.id)

        for step in VisitStep:
            rep.record_step(visit.id, step)
        rep.check_out(visit.id, at_store)
        rep.submit_visit(visit.id)
        shown = sorted(
            (f.code, f.field) for f in rep.visit(visit.id).findings
            if f.code in ("assortment_missing", "promotion_not_in_place", "success_point_missed")
        )
        self.assertEqual(
            shown,
            [("assortment_missing", "assortment.TEA-500"),
             ("promotion_not_in_place", "promotions.KA-ENDCAP"),
             ("success_point_missed", "success.COLA-BLOCK")],
        )

        # Back online: the server judges the visit as the phone did, and flags, never holds.
        relay.restore()
        report = support.wait(rep.sync_now())
        self.assertEqual(report.refused, [])
        self.assertEqual(report.refused_edits, [])
        judged = sorted(
            (f.code, f.outcome) for f in report.findings
            if f.doc_id == visit.id
            and f.code in ("assortment_missing", "promotion_not_in_place", "success_point_missed")
        )
        self.assertEqual(
            judged,
            [("assortment_missing", "flagged"), ("promotion_not_in_place", "flagged"),
             ("success_point_missed", "flagged")],
        )
        self.assertEqual(rep.pending().documents, 0)

        # The supervisor's phone shows the visit with the server's findings, before approving.
        sup = support.logged_in_device(self, "sup1")
        items = [i for i in support.wait(sup.visits_to_review()) if i.visit.id == visit.id]
        self.assertEqual(len(items), 1)
        self.assertIn(
            "promotion_not_in_place", [f.code for f in items[0].server_findings or []]
        )


if __name__ == "__main__":
    unittest.main()
