//! A policy [`Scope`] as SQL, the part every side shares: the rows of a
//! kind that any of the scope's grants admits, and none at all when the
//! caller's role reaches none of the kind. What each [`Term`] means for a
//! kind's columns is the side's own (`casework::scope`, `safety::scope`,
//! `support::requests`), so neither side names the other's tables.

use sea_orm::sea_query::{Condition, Expr, ExprTrait, SimpleExpr};

use crate::access::{Scope, Term};

/// No row.
pub fn never() -> SimpleExpr {
    Expr::val(1).eq(0)
}

/// Every row.
pub fn always() -> SimpleExpr {
    Expr::val(1).eq(1)
}

/// The rows `scope` admits: any of its terms, each as `term` says.
pub fn admitted(scope: &Scope, mut term: impl FnMut(Term) -> SimpleExpr) -> Condition {
    if scope.is_nothing() {
        return Condition::all().add(never());
    }
    scope
        .terms()
        .fold(Condition::any(), |any, t| any.add(term(t)))
}
