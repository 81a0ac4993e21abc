//! Reports over attentions, and the contact's rating of an attention.
//!
//! The per-operator report reads a period of one workspace's attentions through the covering
//! index `attentions_report`: one aggregate query, and one window query for the medians (the
//! middle one or two first-response times of each operator; averaged here so that both
//! backends round alike).

use super::inbox::{ATTENTION_COLUMNS, attention_from_row};
use super::*;
use std::collections::HashMap;

pub(crate) async fn operator_report(
    s: &SqlStore,
    workspace_id: Id,
    from: Millis,
    to: Millis,
) -> StoreResult<Vec<OperatorStats>> {
    if from >= to {
        return Err(StoreError::Invalid("invalid_period", "the period must end after it starts".into()));
    }
    let mut conn = s.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT assignee_id, CAST(COUNT(*) AS BIGINT) AS attentions, \
         CAST(COUNT(first_response_at) AS BIGINT) AS responded, \
         CAST(COALESCE(SUM(first_response_at - opened_at), 0) AS BIGINT) AS response_sum, \
         CAST(COALESCE(SUM(CASE WHEN rating = 'satisfied' THEN 1 ELSE 0 END), 0) AS BIGINT) AS satisfied, \
         CAST(COALESCE(SUM(CASE WHEN rating = 'neutral' THEN 1 ELSE 0 END), 0) AS BIGINT) AS neutral, \
         CAST(COALESCE(SUM(CASE WHEN rating = 'dissatisfied' THEN 1 ELSE 0 END), 0) AS BIGINT) AS dissatisfied \
         FROM attentions WHERE workspace_id = $1 AND opened_at >= $2 AND opened_at < $3 AND assignee_id IS NOT NULL \
         GROUP BY assignee_id ORDER BY assignee_id",
    )
    .bind(workspace_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let mut stats = Vec::with_capacity(rows.len());
    for row in &rows {
        let responded: i64 = col(row, "responded")?;
        let sum: i64 = col(row, "response_sum")?;
        stats.push(OperatorStats {
            user_id: col(row, "assignee_id")?,
            attentions: col(row, "attentions")?,
            responded,
            first_response_median_ms: None,
            first_response_avg_ms: (responded > 0).then(|| sum.div_euclid(responded)),
            satisfied: col(row, "satisfied")?,
            neutral: col(row, "neutral")?,
            dissatisfied: col(row, "dissatisfied")?,
        });
    }

    // The middle one (odd count) or two (even count) response times of each operator.
    let middles = sqlx::query(
        "SELECT assignee_id, response FROM (\
           SELECT assignee_id, first_response_at - opened_at AS response, \
           ROW_NUMBER() OVER (PARTITION BY assignee_id ORDER BY first_response_at - opened_at) AS rn, \
           COUNT(*) OVER (PARTITION BY assignee_id) AS n \
           FROM attentions WHERE workspace_id = $1 AND opened_at >= $2 AND opened_at < $3 \
           AND assignee_id IS NOT NULL AND first_response_at IS NOT NULL\
         ) d WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2",
    )
    .bind(workspace_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_user: HashMap<Id, (i64, i64)> = HashMap::new();
    for row in &middles {
        let e = by_user.entry(col(row, "assignee_id")?).or_default();
        e.0 += col::<i64>(row, "response")?;
        e.1 += 1;
    }
    for st in &mut stats {
        if let Some((sum, n)) = by_user.get(&st.user_id) {
            st.first_response_median_ms = Some(sum.div_euclid(*n));
        }
    }
    Ok(stats)
}

pub(crate) async fn rate_attention(
    s: &SqlStore,
    workspace_id: Id,
    attention_id: Id,
    rating: Rating,
    comment: Option<String>,
    hidden: bool,
    now: Millis,
) -> StoreResult<Attention> {
    let comment = comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > RATING_COMMENT_MAX_CHARS) {
        return Err(StoreError::Invalid(
            "comment_too_long",
            format!("the comment is longer than {RATING_COMMENT_MAX_CHARS} characters"),
        ));
    }
    s.write(move |c| {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE attentions SET rating = $1, rating_comment = $2, rating_hidden = $3, rated_at = $4 \
                 WHERE id = $5 AND workspace_id = $6",
            )
            .bind(rating.as_str())
            .bind(comment)
            .bind(hidden as i64)
            .bind(now)
            .bind(attention_id)
            .bind(workspace_id)
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            let sql = format!("SELECT {ATTENTION_COLUMNS} FROM attentions WHERE id = $1");
            let row = sqlx::query(&sql).bind(attention_id).fetch_one(&mut *c).await?;
            attention_from_row(&row)
        })
    })
    .await
}
