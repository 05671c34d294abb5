-- The order's requested delivery day and the day it was delivered, once recorded
-- (`Order::delivery`), kept by the sync transaction with the order's projection so that the
-- monthly report counts on-time deliveries per person in SQL (docs/reports.md, "Order on-time
-- delivery") instead of reading every order's document. NULL `delivered_on`: not recorded.
ALTER TABLE orders ADD COLUMN requested_delivery TEXT COLLATE "C";
ALTER TABLE orders ADD COLUMN delivered_on TEXT COLLATE "C";
-- Orders projected before: the requested day from the document the row holds (no order had a
-- recorded delivery before this migration).
UPDATE orders SET requested_delivery = document::jsonb ->> 'requested_delivery';
-- The report's count of a month's due orders per person, answered from the index alone.
CREATE INDEX orders_tenant_requested_delivery ON orders (tenant_id, requested_delivery) INCLUDE (status, person_id, delivered_on);
