//! Orders awaiting approval (a rule sent them there: stale credit data, a discount beyond the
//! rep's authority): what was ordered at which price against the price list, the findings of
//! the shared pricing rule, and approve / decline with a reason.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};

use fieldsync_shared::document::DocKind;
use fieldsync_shared::order::{Order, OrderStatus};
use fieldsync_shared::rules::pricing::{self, DiscountAuthority};
use fieldsync_shared::values::DocId;

use super::auth::ConsoleUser;
use super::decisions::Outcome;
use super::directory::Directory;
use super::error::{ConsoleError, ConsoleResult};
use super::layout::{self, Section};
use super::{csrf, queue};
use crate::http::ApiError;
use crate::scope::read_scope;
use crate::state::AppState;
use crate::store::documents::{ProjectedDocument, ProjectionFilter};

/// Most orders one page lists.
const MAX_ORDERS: u32 = 500;

/// `GET /console/orders`.
pub async fn orders_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
) -> ConsoleResult<Response> {
    let directory = Directory::load(&state, user.principal.tenant_id).await?;
    let scope = read_scope(state.store.as_ref(), &user.principal).await?;
    let rows = state
        .store
        .list_projected(
            user.principal.tenant_id,
            DocKind::Order,
            &ProjectionFilter {
                store_id: None,
                person_id: None,
                from: None,
                to: None,
                status: Some(OrderStatus::PendingApproval.as_str()),
                after: None,
                limit: MAX_ORDERS,
                visible: scope.visibility(),
            },
        )
        .await?;
    let mut orders = rows
        .iter()
        .map(order_of)
        .collect::<ConsoleResult<Vec<Order>>>()?;
    orders.sort_by_key(|o| (o.order_date, o.created_at, o.id));
    let list = html! {
        section #orders aria-label="Orders awaiting approval" {
            p.count { (orders.len()) " order(s) awaiting approval, oldest first" }
            @if orders.is_empty() { p.empty { "No orders awaiting approval. 暂无待审批订单。" } }
            @for o in &orders { (card(&user, &directory, o, None)) }
        }
    };
    if layout::is_htmx(&headers) {
        return Ok(layout::fragment(list));
    }
    let body = html! {
        main {
            h1 { "Orders awaiting approval 待审批订单" }
            (list)
        }
    };
    Ok(layout::html_response(
        StatusCode::OK,
        layout::page(&user, Section::Orders, "Orders awaiting approval", body),
    ))
}

fn card(
    user: &ConsoleUser,
    directory: &Directory,
    order: &Order,
    outcome: Option<&Outcome>,
) -> Markup {
    let id = order.id;
    let action = format!("/console/orders/{id}/decision");
    let reason_id = format!("reason-{id}");
    html! {
        article.card.order #(format!("order-{id}")) tabindex="0" aria-label=(format!("Order {}", order.number)) {
            div.card-main {
                h2 { (order.number) " · " (directory.store_name(order.store_id)) }
                p.meta {
                    (directory.person_name(order.person_id)) " · ordered " (order.order_date)
                    " · delivery " (order.requested_delivery) " · " (order.payment.as_str())
                }
                div.table-scroll {
                    table.lines {
                        thead { tr { th { "SKU" } th { "Product 产品" } th { "Qty 数量" } th { "Price 单价" } th { "List 牌价" } th { "Floor 底价" } th { "Findings 问题" } } }
                        tbody {
                            @for line in order.lines.values() {
                                @let product = directory.product(&line.sku);
                                @let found = pricing::check_line(line, product, DiscountAuthority::default()).findings;
                                tr class=[(!found.is_empty()).then_some("finding")] {
                                    td { (line.sku) }
                                    td { (directory.product_name(&line.sku)) }
                                    td.num { (line.quantity) }
                                    td.num { (line.unit_price) }
                                    td.num { @if let Some(p) = product { (p.list_price) } }
                                    td.num { @if let Some(p) = product { (p.floor_price) } }
                                    td { @for f in &found { span.flag title=(f.message) { (super::findings::label(&f.code)) } " " } }
                                }
                            }
                        }
                    }
                }
                p { "Total 合计: " strong { (order.total().map_or("—".to_string(), |t| t.to_string())) } }
                @if !order.notes.as_str().is_empty() { p.notes { (order.notes.as_str()) } }
            }
            div.card-decision {
                @if let Some(outcome) = outcome { (queue::outcome_note(outcome)) }
                @if order.status == OrderStatus::PendingApproval {
                    form.decision method="post" action=(action) hx-post=(action) hx-target=(format!("#order-{id}")) hx-swap="outerHTML" {
                        input type="hidden" name=(csrf::FIELD) value=(user.csrf_token);
                        label for=(reason_id) { "Reason 原因" }
                        textarea #(reason_id) name="comment" rows="1" maxlength="500" placeholder="Required to decline 拒绝须填写" {}
                        div.buttons {
                            button.approve type="submit" name="action" value="approve" data-shortcut="a" { "Approve 批准" }
                            button.reject type="submit" name="action" value="decline" data-shortcut="r" { "Decline 拒绝" }
                        }
                    }
                } @else {
                    p.decided { (order.status.as_str()) }
                }
            }
        }
    }
}

/// The order's card after a decision (htmx answer).
pub async fn card_after_decision(
    state: &AppState,
    user: &ConsoleUser,
    id: DocId,
    outcome: &Outcome,
) -> ConsoleResult<Response> {
    let scope = read_scope(state.store.as_ref(), &user.principal).await?;
    let row = state
        .store
        .get_projected(user.principal.tenant_id, DocKind::Order, id)
        .await?
        .filter(|r| scope.can_see(r.store_id, r.person_id))
        .ok_or(ConsoleError::NotFound)?;
    let directory = Directory::load(state, user.principal.tenant_id).await?;
    let order = order_of(&row)?;
    Ok(layout::fragment(card(
        user,
        &directory,
        &order,
        Some(outcome),
    )))
}

fn order_of(row: &ProjectedDocument) -> ConsoleResult<Order> {
    serde_json::from_str(&row.document_json).map_err(|e| ConsoleError::Api(ApiError::internal(e)))
}
