//! CSV imports of users, stores, territories, products, credit snapshots, sales targets and
//! the must-carry range (assortment), promotions and display agreements (promotions), pictures
//! of success (success-pictures), annual agreements (agreements):
//! `POST /v1/admin/import/{kind}` (`Content-Type: text/csv`) and
//! `fieldsync-server import <kind> <file.csv> --tenant <slug>`.
//!
//! All or nothing: the header is checked, every row is parsed into typed values and its
//! references resolved (teams, stores, users) BEFORE anything is written; if any row fails,
//! every failing row is reported (`row` counts the header as row 1, as a spreadsheet shows it)
//! and nothing is stored. Otherwise all rows are upserted by their business key in one
//! transaction (stores, products and credit each in the master-data transaction that gives the
//! rows one new master version, so devices pick them up with `GET /v1/master`).
//!
//! [`pipeline`] does all of that for every kind; a kind's module ([`stores`], [`products`],
//! [`credit`], [`users`], [`territories`]) names its columns and turns checked rows into one
//! store call. [`handler`] is the HTTP endpoint.
//!
//! What a file does not say of the rows it creates (their ids, the password of a new user
//! without one) comes from a [`NewRows`]: [`FreshRows`] for a customer's file; the demo tenant
//! derives ids from names, so that docs and tests can name its rows.

pub mod agreements;
pub mod assortment;
mod cells;
pub mod credit;
pub mod credit_recheck;
pub mod handler;
pub mod pipeline;
pub mod products;
pub mod promotions;
pub mod stores;
pub mod success_pictures;
pub mod targets;
pub mod territories;
pub mod users;

// `__path_import` is utoipa's description of `import`, which the OpenAPI document names by
// this path.
#[doc(hidden)]
pub use handler::__path_import;
pub use handler::{import, router, InvalidRows};
pub use pipeline::{
    run_import, Columns, FreshRows, ImportError, ImportReport, NewRows, Progress, RowError, Silent,
    MAX_IMPORT_ROWS, MAX_REPORTED_ERRORS,
};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    Users,
    Stores,
    Territories,
    Products,
    Credit,
    Targets,
    Assortment,
    Promotions,
    SuccessPictures,
    Agreements,
}

impl ImportKind {
    const ALL: [ImportKind; 10] = [
        Self::Users,
        Self::Stores,
        Self::Territories,
        Self::Products,
        Self::Credit,
        Self::Targets,
        Self::Assortment,
        Self::Promotions,
        Self::SuccessPictures,
        Self::Agreements,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Stores => "stores",
            Self::Territories => "territories",
            Self::Products => "products",
            Self::Credit => "credit",
            Self::Targets => "targets",
            Self::Assortment => "assortment",
            Self::Promotions => "promotions",
            Self::SuccessPictures => "success-pictures",
            Self::Agreements => "agreements",
        }
    }

    /// The columns a file of this kind has.
    pub fn columns(self) -> Columns {
        match self {
            Self::Users => users::COLUMNS,
            Self::Stores => stores::COLUMNS,
            Self::Territories => territories::COLUMNS,
            Self::Products => products::COLUMNS,
            Self::Credit => credit::COLUMNS,
            Self::Targets => targets::COLUMNS,
            Self::Assortment => assortment::COLUMNS,
            Self::Promotions => promotions::COLUMNS,
            Self::SuccessPictures => success_pictures::COLUMNS,
            Self::Agreements => agreements::COLUMNS,
        }
    }
}
