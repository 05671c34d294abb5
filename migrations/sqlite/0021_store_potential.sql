-- What a key-account store could buy from us in a month (minor units), when estimated: the
-- store-opportunity report (docs/reports.md) sets the store's orders against it.
ALTER TABLE stores ADD COLUMN monthly_potential INTEGER CHECK (monthly_potential IS NULL OR monthly_potential >= 0);

-- What an order adds to the achieved sales when it is a sale (`rules::sales::sale_amount`,
-- minor units) and its units (`sale_units`), kept by the sync transaction with the order's
-- projection so that the monthly report sums them instead of reading every order's document.
-- NULL: projected before this migration (the report reads that order's document).
ALTER TABLE orders ADD COLUMN amount INTEGER;
ALTER TABLE orders ADD COLUMN units INTEGER;
-- The monthly report's reads of a month's sales (amount and units per person) and of the
-- sale facts (date, person, store) answered from the index alone, without reading the rows
-- and their documents.
CREATE INDEX orders_tenant_date_sales ON orders (tenant_id, order_date, status, person_id, store_id, amount, units);
