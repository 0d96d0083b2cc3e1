//! The storage page: the account's totals (show_storage), one chart per repository of its stored bytes per
//! day (list_artifactory_storage_statistic), and the largest repositories and files, all of them only
//! what the caller may read. The charts are inline SVG drawn here: no script, no style attribute (the CSP
//! forbids both), only presentation attributes and the stylesheet's classes.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use serde_json::Value;

use super::session::Session;
use super::views::{self, Chrome, ProjectOption};
use crate::http::app::AppState;
use crate::http::artifact::repositories::{self, human_bytes};
use crate::http::artifact::stats;
use crate::http::error::ApiResult;
use crate::http::extract::QueryParams;
use crate::store::projects;

const MAX_DAYS: i64 = 366;
const DEFAULT_DAYS: i64 = 30;
/// Charts one page draws; the largest repositories come first.
const MAX_CHARTS: usize = 24;
const TOP: usize = 10;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const PAD_X: f64 = 10.0;
const PAD_TOP: f64 = 18.0;
const PAD_BOTTOM: f64 = 22.0;

pub struct Point {
    pub x: String,
    pub y: String,
    pub day: String,
    pub size: String,
    pub files: i64,
}

pub struct Chart {
    pub repo: String,
    pub project_id: String,
    pub bytes: i64,
    pub size: String,
    pub files: i64,
    pub peak: String,
    pub first_day: String,
    pub last_day: String,
    pub polyline: String,
    pub points: Vec<Point>,
}

pub struct RepoSize {
    pub repo: String,
    pub project_id: String,
    pub size: String,
    pub files: i64,
}

pub struct BigFile {
    pub repo: String,
    pub project_id: String,
    pub path: String,
    pub size: String,
}

#[derive(Template)]
#[template(path = "console/storage.html")]
pub struct Storage {
    pub chrome: Chrome,
    pub days: i64,
    pub projects: Vec<ProjectOption>,
    pub total_size: String,
    pub total_files: i64,
    pub charts: Vec<Chart>,
    pub more_charts: usize,
    pub largest_repos: Vec<RepoSize>,
    pub largest_files: Vec<BigFile>,
}

/// `GET /ui/storage?days=&project=`.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    views::respond(page(&state, &session, headers, &query).await)
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

async fn page(
    state: &AppState,
    session: &Session,
    headers: HeaderMap,
    query: &QueryParams,
) -> ApiResult<Storage> {
    let days = query.int("days", 1..=MAX_DAYS, DEFAULT_DAYS)?;
    let project = query.filter("project", 32)?;
    let principal = session.principal.clone();
    let Json(totals) = stats::show_storage(
        State(state.clone()),
        principal.clone(),
        QueryParams::parse("")?,
    )
    .await?;
    let Json(listed) = repositories::list_all(
        State(state.clone()),
        principal.clone(),
        headers.clone(),
        Path((principal.domain_id.clone(), "0".repeat(32))),
        QueryParams::parse("is_need_paging=false&in_project=false")?,
    )
    .await?;
    let end = today(state);
    let start = end - Duration::days(days - 1);
    let mut charts = Vec::new();
    let all = listed["result"]["repositories"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for repo in all {
        let project_id = text(repo, "projectId");
        if project.as_ref().is_some_and(|p| *p != project_id) {
            continue;
        }
        let api_query = format!(
            "repo={}&start_time={}&end_time={}",
            text(repo, "id"),
            start.format("%Y-%m-%d"),
            end.format("%Y-%m-%d")
        );
        let Json(history) = stats::storage_statistic(
            State(state.clone()),
            principal.clone(),
            Path((principal.domain_id.clone(), project_id.clone())),
            headers.clone(),
            QueryParams::parse(&api_query)?,
        )
        .await?;
        let rows = history["result"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        charts.push(chart(text(repo, "name"), project_id, rows));
    }
    charts.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.repo.cmp(&b.repo)));
    let largest_repos = charts
        .iter()
        .filter(|c| c.bytes > 0)
        .take(TOP)
        .map(|c| RepoSize {
            repo: c.repo.clone(),
            project_id: c.project_id.clone(),
            size: c.size.clone(),
            files: c.files,
        })
        .collect();
    let more_charts = charts.len().saturating_sub(MAX_CHARTS);
    charts.truncate(MAX_CHARTS);
    let largest_files = stats::largest_files(state, &principal, project.clone(), TOP)
        .await?
        .into_iter()
        .map(|(r, f)| BigFile {
            repo: r.name,
            project_id: r.project_id,
            size: human_bytes(f.size),
            path: f.path,
        })
        .collect();
    Ok(Storage {
        chrome: Chrome {
            user_name: principal.user_name.clone(),
            csrf: session.csrf.clone(),
            admin: session.admin,
        },
        days,
        projects: project_options(state, session, project.as_deref()).await?,
        total_size: text(&totals["result"], "totalStorage"),
        total_files: totals["result"]["totalCount"].as_i64().unwrap_or(0),
        charts,
        more_charts,
        largest_repos,
        largest_files,
    })
}

/// Today in the display offset, as the statistics count days.
fn today(state: &AppState) -> NaiveDate {
    FixedOffset::east_opt(state.config.display_offset_minutes * 60)
        .and_then(|o| o.timestamp_millis_opt(crate::store::now_ms()).single())
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// The projects the filter offers: those the caller is a member of (all of them for the root user).
async fn project_options(
    state: &AppState,
    session: &Session,
    selected: Option<&str>,
) -> ApiResult<Vec<ProjectOption>> {
    let principal = session.principal.clone();
    let (_, list) = state
        .db
        .call(move |conn| {
            let member = (!principal.is_root).then_some(principal.user_id.as_str());
            projects::list_projects(conn, &principal.domain_id, member, None, 0, 1000)
        })
        .await?;
    Ok(list
        .into_iter()
        .map(|p| ProjectOption {
            selected: selected == Some(p.id.as_str()),
            id: p.id,
            name: p.name,
        })
        .collect())
}

/// A repository's daily rows as a line chart: x spreads the days over the width, y scales the bytes to
/// the period's peak (a flat line at the bottom when nothing was stored).
fn chart(repo: String, project_id: String, rows: &[Value]) -> Chart {
    let bytes: Vec<i64> = rows
        .iter()
        .map(|r| r["usedSpaceLength"].as_i64().unwrap_or(0))
        .collect();
    let peak = bytes.iter().copied().max().unwrap_or(0);
    let n = rows.len();
    let inner_w = WIDTH - 2.0 * PAD_X;
    let inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM;
    let points: Vec<Point> = rows
        .iter()
        .zip(&bytes)
        .enumerate()
        .map(|(i, (row, b))| {
            let x = if n > 1 {
                PAD_X + inner_w * i as f64 / (n - 1) as f64
            } else {
                WIDTH / 2.0
            };
            let share = if peak > 0 {
                *b as f64 / peak as f64
            } else {
                0.0
            };
            Point {
                x: format!("{x:.1}"),
                y: format!("{:.1}", PAD_TOP + inner_h * (1.0 - share)),
                day: text(row, "summaryDate"),
                size: human_bytes(*b),
                files: row["filesCount"].as_i64().unwrap_or(0),
            }
        })
        .collect();
    let polyline = points
        .iter()
        .map(|p| format!("{},{}", p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ");
    let last = points.last();
    Chart {
        repo,
        project_id,
        bytes: bytes.last().copied().unwrap_or(0),
        size: last.map(|p| p.size.clone()).unwrap_or_default(),
        files: last.map(|p| p.files).unwrap_or(0),
        peak: human_bytes(peak),
        first_day: points.first().map(|p| p.day.clone()).unwrap_or_default(),
        last_day: last.map(|p| p.day.clone()).unwrap_or_default(),
        polyline,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_chart_has_a_point_per_day_scaled_to_the_peak() {
        let rows = [
            json!({"summaryDate": "2026-01-01", "usedSpaceLength": 0, "filesCount": 0}),
            json!({"summaryDate": "2026-01-02", "usedSpaceLength": 50, "filesCount": 1}),
            json!({"summaryDate": "2026-01-03", "usedSpaceLength": 100, "filesCount": 2}),
        ];
        let c = chart("r".into(), "p".into(), &rows);
        assert_eq!(c.points.len(), 3);
        assert_eq!((c.bytes, c.files), (100, 2));
        assert_eq!(c.points[0].x, "10.0");
        assert_eq!(c.points[2].x, "590.0");
        assert_eq!(c.points[0].y, format!("{:.1}", HEIGHT - PAD_BOTTOM));
        assert_eq!(c.points[2].y, format!("{PAD_TOP:.1}"));
        assert_eq!(c.polyline.split(' ').count(), 3);
        assert_eq!(
            (c.first_day.as_str(), c.last_day.as_str()),
            ("2026-01-01", "2026-01-03")
        );
    }

    #[test]
    fn an_empty_repository_is_a_flat_line_and_one_day_is_centred() {
        let rows = [json!({"summaryDate": "2026-01-01", "usedSpaceLength": 0, "filesCount": 0})];
        let c = chart("r".into(), "p".into(), &rows);
        assert_eq!(c.points[0].x, format!("{:.1}", WIDTH / 2.0));
        assert_eq!(c.points[0].y, format!("{:.1}", HEIGHT - PAD_BOTTOM));
        assert_eq!(c.size, "0 B");
    }
}
