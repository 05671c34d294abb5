"""Errors cross the FFI as typed exceptions an app can act on (FieldsyncError variants)."""

import os
import tempfile
import unittest

import support
from support import fieldsync

FieldsyncError = fieldsync.FieldsyncError


class TypedErrors(unittest.TestCase):
    def test_wrong_password_is_unauthorized(self):
        device = support.open_device(self)
        with self.assertRaises(FieldsyncError.Unauthorized) as e:
            support.wait(device.login(support.TENANT, "rep2", "not-the-password"))
        self.assertEqual(e.exception.reason, "invalid_credentials")
        self.assertFalse(device.is_logged_in())
        # Every variant is a FieldsyncError: one `except` catches them all.
        self.assertIsInstance(e.exception, FieldsyncError)

    def test_no_server_is_offline(self):
        device = support.open_device(self, support.closed_port_url())
        with self.assertRaises(FieldsyncError.Offline) as e:
            support.wait(device.login(support.TENANT, "rep2", support.PASSWORD))
        self.assertTrue(e.exception.detail)

    def test_edits_need_a_signed_in_user(self):
        device = support.open_device(self)
        with self.assertRaises(FieldsyncError.Unauthorized) as e:
            device.start_visit("00000000-0000-4000-8000-000000000001")
        self.assertEqual(e.exception.reason, "not_logged_in")

    def test_session_survives_logout_offline_work(self):
        device = support.logged_in_device(self, "rep2")
        self.assertTrue(device.is_logged_in())
        device.logout()
        self.assertFalse(device.is_logged_in())
        # Master data and the profile stay for offline work; only the session is gone.
        self.assertGreater(len(device.stores()), 0)
        self.assertEqual(device.profile().username, "rep2")
        with self.assertRaises(FieldsyncError.Unauthorized) as e:
            support.wait(device.sync_now())
        self.assertEqual(e.exception.reason, "not_logged_in")

    def test_malformed_arguments_are_invalid_with_the_argument_name(self):
        device = support.logged_in_device(self, "rep2")
        with self.assertRaises(FieldsyncError.Invalid) as e:
            device.visit("not-a-uuid")
        self.assertEqual((e.exception.field, e.exception.rule), ("visit_id", "input"))
        store = device.stores()[0]
        with self.assertRaises(FieldsyncError.Invalid) as e:
            device.start_visit(store.id, "2025-02-30")
        self.assertEqual(e.exception.field, "planned_date")

    def test_negative_counts_are_invalid(self):
        # Integers at the boundary are signed (Kotlin/Java have no unsigned types to speak
        # of): a negative quantity or facings count is refused by name, nothing committed.
        device = support.logged_in_device(self, "rep2")
        store = device.stores()[0]
        order = device.create_order(
            store.id, support.days_from_today(store.delivery_lead_days + 1), fieldsync.PaymentMethod.CASH
        )
        with self.assertRaises(FieldsyncError.Invalid) as e:
            device.set_order_line(order.id, "COLA-330", -6)
        self.assertEqual((e.exception.field, e.exception.rule, e.exception.code), ("quantity", "input", "negative"))
        self.assertEqual(device.order(order.id).lines, [])
        visit = device.start_visit(store.id)
        line = fieldsync.AuditInput(sku="COLA-330", location="MAIN-SHELF", facings=-1, on_shelf=True)
        with self.assertRaises(FieldsyncError.Invalid) as e:
            device.record_audit_line(visit.id, line)
        self.assertEqual((e.exception.field, e.exception.code), ("facings", "negative"))
        self.assertEqual(device.visit(visit.id).audit, [])

    def test_unknown_things_are_not_found(self):
        device = support.logged_in_device(self, "rep2")
        with self.assertRaises(FieldsyncError.NotFound) as e:
            device.visit("00000000-0000-4000-8000-000000000001")
        self.assertEqual(e.exception.what, "visit")
        with self.assertRaises(FieldsyncError.NotFound):
            device.store_by_code("NKA-999")

    def test_business_rules_refuse_on_the_device(self):
        device = support.logged_in_device(self, "rep2")
        store = device.stores()[0]
        # Delivery before the store's lead time: refused by the shared delivery-date rule.
        with self.assertRaises(FieldsyncError.Invalid) as e:
            device.create_order(store.id, support.iso(support.today()), fieldsync.PaymentMethod.CASH)
        self.assertEqual(e.exception.rule, "delivery_date")
        self.assertTrue(e.exception.findings)
        self.assertEqual(e.exception.findings[0].severity, fieldsync.Severity.BLOCK)

    def test_a_file_that_is_not_a_photo_is_invalid(self):
        device = support.logged_in_device(self, "rep2")
        store = device.stores()[0]
        visit = device.start_visit(store.id)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "notes.txt")
            with open(path, "w") as f:
                f.write("not an image")
            with self.assertRaises(FieldsyncError.Invalid) as e:
                device.attach_photo(visit.id, path)
            self.assertEqual(e.exception.field, "photo")
            with self.assertRaises(FieldsyncError.NotFound):
                device.attach_photo(visit.id, os.path.join(d, "missing.jpg"))


if __name__ == "__main__":
    unittest.main()
