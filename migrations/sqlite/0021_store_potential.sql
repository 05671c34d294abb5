-- What a key-account store could buy from us in a month (minor units), when estimated: the
-- store-opportunity report (docs/reports.md) sets the store's orders against it.
ALTER TABLE stores ADD COLUMN monthly_potential INTEGER CHECK (monthly_potential IS NULL OR monthly_potential >= 0);
