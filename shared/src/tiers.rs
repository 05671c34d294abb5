//! Approval tiers: how far each role may go on its own, per tenant. [`RoleLimits`] is the
//! reusable shape (each role's limit: a discount, an order amount, an expense);
//! [`ApprovalTiers`] a tenant's tiers for orders, master data delivered to the phones. The
//! rule that applies them is `rules::approval` (order amounts) and `rules::pricing`
//! (discounts).

use serde::{Deserialize, Serialize};

use crate::org::Role;
use crate::values::Money;

/// The roles that hold a limit, lowest first: who approves what a lower role may not do.
pub const LADDER: [Role; 3] = [Role::Rep, Role::Supervisor, Role::Manager];

/// What each role may do on its own, as a largest value (`None`: no limit). Merchandisers
/// have a rep's limit, administrators a manager's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleLimits<T> {
    pub rep: Option<T>,
    pub supervisor: Option<T>,
    pub manager: Option<T>,
}

impl<T: PartialOrd + Copy> RoleLimits<T> {
    /// The same limit for every role.
    pub fn uniform(limit: Option<T>) -> Self {
        RoleLimits {
            rep: limit,
            supervisor: limit,
            manager: limit,
        }
    }

    /// The limit of `role`.
    pub fn of(&self, role: Role) -> Option<T> {
        match role {
            Role::Merchandiser | Role::Rep => self.rep,
            Role::Supervisor => self.supervisor,
            Role::Manager | Role::Admin => self.manager,
        }
    }

    /// `value` is within what `role` may do alone (a limit is inclusive).
    pub fn allows(&self, role: Role, value: T) -> bool {
        self.of(role).is_none_or(|limit| value <= limit)
    }

    /// The lowest role that may do `value` alone; `None` if no role may.
    pub fn approver(&self, value: T) -> Option<Role> {
        LADDER.into_iter().find(|role| self.allows(*role, value))
    }

    /// A higher role never has a lower limit than the role below it (else the approver of a
    /// value would be below someone who may not do it). Returns the first offending role.
    pub fn check_order(&self) -> Result<(), Role> {
        for pair in LADDER.windows(2) {
            let (lower, higher) = (self.of(pair[0]), self.of(pair[1]));
            match (lower, higher) {
                (_, None) => {}
                (None, Some(_)) => return Err(pair[1]),
                (Some(l), Some(h)) if h < l => return Err(pair[1]),
                _ => {}
            }
        }
        Ok(())
    }
}

/// A tenant's approval tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalTiers {
    /// The largest discount off list price each role may give without approval, basis points.
    pub discount_bp: RoleLimits<u32>,
    /// The largest order total each role may submit (reps) or approve (supervisors, managers)
    /// alone: an order above the rep's limit needs a supervisor, above the supervisor's a
    /// manager.
    pub order_amount: RoleLimits<Money>,
    /// The largest single expense each role may incur (reps) or pre-approve (supervisors,
    /// managers) alone. Absent in tiers written before expenses existed: no limit.
    #[serde(default = "no_limits")]
    pub expense_amount: RoleLimits<Money>,
}

fn no_limits() -> RoleLimits<Money> {
    RoleLimits::uniform(None)
}

impl Default for ApprovalTiers {
    /// A tenant that set none: 10 % for everyone, no amount tier.
    fn default() -> Self {
        ApprovalTiers {
            discount_bp: RoleLimits::uniform(Some(1000)),
            order_amount: RoleLimits::uniform(None),
            expense_amount: RoleLimits::uniform(None),
        }
    }
}

impl ApprovalTiers {
    /// Tiers that make sense: each limit at least the one of the role below, discounts at
    /// most 100 %, amounts not negative. The message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        if let Err(role) = self.discount_bp.check_order() {
            return Err(format!(
                "discount_bp.{}: below the limit of the role beneath it",
                role.as_str()
            ));
        }
        for (name, limits) in [
            ("order_amount", &self.order_amount),
            ("expense_amount", &self.expense_amount),
        ] {
            if let Err(role) = limits.check_order() {
                return Err(format!(
                    "{name}.{}: below the limit of the role beneath it",
                    role.as_str()
                ));
            }
        }
        for role in LADDER {
            if self.discount_bp.of(role).is_some_and(|bp| bp > 10_000) {
                return Err(format!(
                    "discount_bp.{}: above 10000 (100 %)",
                    role.as_str()
                ));
            }
            if self.order_amount.of(role).is_some_and(|m| m < Money::ZERO) {
                return Err(format!("order_amount.{}: negative", role.as_str()));
            }
            if self
                .expense_amount
                .of(role)
                .is_some_and(|m| m < Money::ZERO)
            {
                return Err(format!("expense_amount.{}: negative", role.as_str()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rep 10 %, supervisor 15 %, manager 25 %; orders: a rep alone up to 5,000.00, a
    /// supervisor up to 20,000.00, a manager any.
    pub(crate) fn tiers() -> ApprovalTiers {
        ApprovalTiers {
            discount_bp: RoleLimits {
                rep: Some(1000),
                supervisor: Some(1500),
                manager: Some(2500),
            },
            order_amount: RoleLimits {
                rep: Some(Money(500_000)),
                supervisor: Some(Money(2_000_000)),
                manager: None,
            },
            expense_amount: RoleLimits::uniform(None),
        }
    }

    #[test]
    fn each_role_has_its_limit_and_the_lowest_able_role_approves() {
        let t = tiers();
        assert!(t.discount_bp.allows(Role::Rep, 800));
        assert!(t.discount_bp.allows(Role::Rep, 1000));
        assert!(!t.discount_bp.allows(Role::Rep, 1500));
        assert!(t.discount_bp.allows(Role::Supervisor, 1500));
        assert!(t.discount_bp.allows(Role::Merchandiser, 1000));
        assert!(t.discount_bp.allows(Role::Admin, 2500));
        assert_eq!(t.discount_bp.approver(1500), Some(Role::Supervisor));
        assert_eq!(t.discount_bp.approver(2000), Some(Role::Manager));
        assert_eq!(t.discount_bp.approver(3000), None);
        assert_eq!(
            t.order_amount.approver(Money(i64::MAX)),
            Some(Role::Manager)
        );
    }

    #[test]
    fn tiers_must_not_decrease_up_the_ladder() {
        assert_eq!(tiers().validate(), Ok(()));
        let mut t = tiers();
        t.discount_bp.supervisor = Some(900);
        assert!(t
            .validate()
            .unwrap_err()
            .starts_with("discount_bp.supervisor"));
        let mut t = tiers();
        t.order_amount.supervisor = None;
        t.order_amount.manager = Some(Money(1));
        assert!(t
            .validate()
            .unwrap_err()
            .starts_with("order_amount.manager"));
        let mut t = tiers();
        t.discount_bp.manager = Some(10_001);
        assert!(t.validate().unwrap_err().starts_with("discount_bp.manager"));
        let mut t = tiers();
        t.order_amount.rep = Some(Money(-1));
        assert!(t.validate().unwrap_err().starts_with("order_amount.rep"));
        let mut t = tiers();
        t.expense_amount.rep = Some(Money(10_000));
        t.expense_amount.supervisor = Some(Money(5_000));
        assert!(t
            .validate()
            .unwrap_err()
            .starts_with("expense_amount.supervisor"));
    }

    #[test]
    fn tiers_written_before_expenses_read_as_no_expense_limit() {
        let old = r#"{"discount_bp":{"rep":1000,"supervisor":1500,"manager":null},
                      "order_amount":{"rep":null,"supervisor":null,"manager":null}}"#;
        let t: ApprovalTiers = serde_json::from_str(old).unwrap();
        assert_eq!(t.expense_amount, RoleLimits::uniform(None));
        assert_eq!(t.discount_bp.of(Role::Supervisor), Some(1500));
    }

    #[test]
    fn tiers_read_and_write_as_json() {
        let json = serde_json::to_value(tiers()).unwrap();
        assert_eq!(json["discount_bp"]["supervisor"], 1500);
        assert_eq!(json["order_amount"]["manager"], serde_json::Value::Null);
        let back: ApprovalTiers = serde_json::from_value(json).unwrap();
        assert_eq!(back, tiers());
    }
}
