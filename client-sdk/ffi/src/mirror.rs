//! `mirror_enum!`: an FFI enum that mirrors a device-library or shared enum variant for
//! variant, with conversions both ways (used by `records` and `error`).

/// Declares an FFI enum mirroring a shared one variant for variant, with conversions both ways.
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident = $shared:path { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name { $($variant),+ }

        impl From<$shared> for $name {
            fn from(v: $shared) -> Self {
                match v { $(<$shared>::$variant => $name::$variant),+ }
            }
        }

        impl From<$name> for $shared {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => <$shared>::$variant),+ }
            }
        }
    };
}

pub(crate) use mirror_enum;
