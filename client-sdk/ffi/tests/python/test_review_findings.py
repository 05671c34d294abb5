"""A supervisor's phone sees why a visit is suspicious before approving it: the findings the
merchandiser's phone showed (kept in the visit) and the server's findings on it, through the
Python bindings against a real server. Among them photo provenance: a gallery photo from last
month (by its EXIF capture time) is flagged, a photo taken during the visit is not."""

import os
import tempfile
import unittest
from datetime import datetime, timedelta, timezone

import support
from support import fieldsync

VisitStep = fieldsync.VisitStep


def moved(lat, lon, north_m):
    """A position `north_m` metres north of (lat, lon)."""
    return lat + north_m / 111_320.0, lon


class ReviewFindings(unittest.TestCase):
    def setUp(self):
        photos = tempfile.TemporaryDirectory(prefix="fieldsync-gallery-")
        self.addCleanup(photos.cleanup)
        self.gallery = photos.name

    def test_supervisor_sees_why_a_visit_is_suspicious(self):
        merch = support.logged_in_device(self, "merch1")
        store = merch.store_by_code("NKA-003")
        lat, lon = moved(store.lat, store.lon, 3_000)
        off_site = fieldsync.GeoFix(lat=lat, lon=lon, accuracy_m=8.0)
        at_store = fieldsync.GeoFix(lat=store.lat, lon=store.lon, accuracy_m=8.0)

        visit = merch.start_visit(store.id)
        shown = merch.check_in(visit.id, off_site)
        self.assertIn("outside_geofence", [f.code for f in shown])
        for step in VisitStep:
            if step == VisitStep.SUGGESTED_ORDER:
                merch.record_step(visit.id, step, "merchandiser: no ordering")
            else:
                merch.record_step(visit.id, step)
        now = datetime.now(timezone.utc)
        shelf = support.write_camera_jpeg(os.path.join(self.gallery, "shelf.jpg"), 77, now)
        fresh = merch.attach_photo(visit.id, shelf, VisitStep.MERCHANDISE)
        self.assertEqual(fresh.findings, [])
        old = support.write_camera_jpeg(
            os.path.join(self.gallery, "old.jpg"), 78, now - timedelta(days=30)
        )
        gallery = merch.attach_photo(visit.id, old, VisitStep.MERCHANDISE)
        self.assertEqual([f.code for f in gallery.findings], ["photo_taken_outside_visit"])
        photos = {p.sha256: p for p in merch.visit(visit.id).photos}
        capture = photos[gallery.sha256].capture
        self.assertTrue(capture.zone_known)
        self.assertLess(capture.at_ms, photos[gallery.sha256].taken_at_ms - 29 * 86_400_000)
        merch.check_out(visit.id, at_store)
        merch.submit_visit(visit.id)

        # The merchandiser's phone kept what it showed.
        recorded = merch.visit(visit.id).findings
        self.assertIn("outside_geofence", [f.code for f in recorded])
        self.assertEqual(
            [f.severity for f in recorded if f.code == "outside_geofence"], ["flag"]
        )

        # The sync report carries the server's finding: kept, flagged for the supervisor.
        report = support.wait(merch.sync_now())
        ours = [(f.code, f.outcome) for f in report.findings if f.doc_id == visit.id]
        self.assertIn(("outside_geofence", "flagged"), ours)
        self.assertIn(("photo_taken_outside_visit", "flagged"), ours)
        self.assertEqual(report.refused_edits, [])

        # The supervisor's review list shows both, per visit, before approving.
        sup = support.logged_in_device(self, "sup1")
        items = [i for i in support.wait(sup.visits_to_review()) if i.visit.id == visit.id]
        self.assertEqual(len(items), 1)
        item = items[0]
        self.assertIn("outside_geofence", [f.code for f in item.visit.findings])
        self.assertIn("photo_taken_outside_visit", [f.code for f in item.visit.findings])
        self.assertIsNotNone(item.server_findings)
        server = {(f.code, f.outcome) for f in item.server_findings}
        self.assertIn(("outside_geofence", "flagged"), server)
        self.assertIn(("photo_taken_outside_visit", "flagged"), server)
        taken_outside = [f for f in item.server_findings if f.code == "photo_taken_outside_visit"]
        self.assertEqual([f.field for f in taken_outside], [f"photos.{gallery.sha256}.capture.at"])
        self.assertTrue(all(f.doc_id == visit.id for f in item.server_findings))
        sup.reject_visit(visit.id, "Checked in 3 km away: explain")

    def test_review_list_reads_offline_without_the_server_findings(self):
        relay = support.Relay(support.SERVER_URL)
        self.addCleanup(relay.cut)
        sup = support.logged_in_device(self, "sup1", relay.url)
        relay.cut()
        for item in support.wait(sup.visits_to_review()):
            self.assertIsNone(item.server_findings)
        for item in support.wait(sup.orders_to_approve()):
            self.assertIsNone(item.server_findings)


if __name__ == "__main__":
    unittest.main()
