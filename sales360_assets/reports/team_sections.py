"""The "Sales team" section of the sales team report: quota attainment, pipeline and campaigns. No Dagster here.

Attainment is the latest month of ``mart_rep_quota_attainment`` up to the period's end, judged
against its pace while the month is still running; the pipeline is the latest month of
``mart_pipeline`` with its low win-rate alerts; campaigns are ranked by influenced revenue over
all time. Every number goes to the figures table; what the outlook needs is returned with the lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from sales360_assets import months
from sales360_assets.marts.campaigns import NO_CAMPAIGN
from sales360_assets.reports.figures import Figures
from sales360_assets.reports.markdown import count, pct, table, usd


@dataclass(frozen=True)
class Team:
    reps: pl.DataFrame  # reps with a quota in the latest month
    below_half_pace: int


@dataclass(frozen=True)
class Pipeline:
    alerts: pl.DataFrame  # region × opportunity type segments with a low win-rate alert
    lowest_win_rate: float | None  # of the regions in the latest month
    threshold: float  # the alert's win-rate threshold, %


def _manager_rows(fig: Figures, managers: pl.DataFrame) -> list[list[str]]:
    rows = []
    for r in managers.iter_rows(named=True):
        fig.add("sales_team", "manager_attainment_pct", r["attainment_pct"], r["name"] or r["user_id"])
        rows.append(
            [
                f"{r['name']} ({r['region']})",
                count(r["reps"]),
                usd(r["quota_usd"]),
                usd(r["credited_bookings_usd"]),
                pct(r["attainment_pct"]),
            ]
        )
    return rows


def attainment(fig: Figures, att: pl.DataFrame, data_end: date) -> tuple[list[str], Team]:
    """Quota attainment of the latest month in ``att`` (monthly rows up to the period's end), per manager."""
    month = att["period_start"].max()
    reps = att.filter(pl.col("period_start") == month, pl.col("level") == "rep", pl.col("quota_usd").is_not_null())
    managers = att.filter(pl.col("period_start") == month, pl.col("level") == "manager").sort("region")
    # A month still running is judged against its pace: the share of its days already gone.
    month_end = months.month_end(month)
    elapsed = (min(data_end, month_end) - month).days + 1
    pace = fig.add("sales_team", "month_elapsed_pct", elapsed / month_end.day * 100.0)
    on_pace = reps.filter(pl.col("attainment_pct") >= pace).height
    low = reps.filter(pl.col("attainment_pct") < pace / 2).height
    fig.add("sales_team", "reps_with_quota", float(reps.height))
    fig.add("sales_team", "reps_on_pace", float(on_pace))
    fig.add("sales_team", "reps_below_half_pace", float(low))
    running = elapsed < month_end.day
    month_note = f" (month to date: {elapsed} of {month_end.day} days)" if running else ""
    out = [f"Quota attainment for {month:%B %Y}{month_note}, credited bookings against quota:", ""]
    out += table(["Manager (team)", "Reps", "Quota", "Credited bookings", "Attainment"], _manager_rows(fig, managers))
    out += [
        "",
        f"{on_pace} of {reps.height} reps are on pace (at least {pct(pace, 0)} of quota"
        + (" — the share of the month gone" if running else "")
        + f"); {low} are below half of that pace.",
        "",
    ]
    return out, Team(reps, low)


def _latest_by_region(pipe: pl.DataFrame, month: date) -> pl.DataFrame:
    return (
        pipe.filter(pl.col("month") == month)
        .group_by("region")
        .agg(pl.col("deals_won").sum(), pl.col("deals_lost").sum(), pl.col("open_pipeline_usd").sum())
        .with_columns(
            pl.when((pl.col("deals_won") + pl.col("deals_lost")) > 0)
            .then(pl.col("deals_won") / (pl.col("deals_won") + pl.col("deals_lost")) * 100.0)
            .alias("win_rate_pct")
        )
        .sort("region")
    )


def segment_names(alerts: pl.DataFrame) -> str:
    """The alerting segments as "region opportunity type", comma-separated."""
    return ", ".join(f"{r['region']} {r['opportunity_type']}" for r in alerts.iter_rows(named=True))


def pipeline(fig: Figures, pipe: pl.DataFrame) -> tuple[list[str], Pipeline]:
    """Won, lost, win rate and open pipeline per region in the latest month of ``pipe``; its alerts."""
    month = pipe["month"].max()
    latest = _latest_by_region(pipe, month)
    alerts = pipe.filter(pl.col("month") == month, pl.col("low_win_rate_alert"))
    decided = latest["deals_won"].sum() + latest["deals_lost"].sum()
    fig.add("pipeline", "win_rate_pct", latest["deals_won"].sum() / decided * 100.0 if decided else None, "all")
    rows = []
    for r in latest.iter_rows(named=True):
        fig.add("pipeline", "win_rate_pct", r["win_rate_pct"], r["region"])
        fig.add("pipeline", "open_pipeline_usd", r["open_pipeline_usd"], r["region"])
        won, lost = count(r["deals_won"]), count(r["deals_lost"])
        rows.append([r["region"], won, lost, pct(r["win_rate_pct"]), usd(r["open_pipeline_usd"])])
    fig.add("pipeline", "segments_alerting", float(alerts.height))
    threshold = pipe["win_rate_threshold_pct"].max()
    out = [f"Pipeline in {month:%B %Y}:", "", *table(["Region", "Won", "Lost", "Win rate", "Open pipeline"], rows)]
    out += [
        "",
        (
            f"Low win-rate alerts (below {threshold:g} % for the configured months running): " + segment_names(alerts)
            if alerts.height
            else f"No segment has stayed below the {threshold:g} % win-rate threshold long enough to alert."
        ),
    ]
    return out, Pipeline(alerts, latest["win_rate_pct"].min(), threshold)


def top_campaigns(fig: Figures, campaigns: pl.DataFrame) -> list[str]:
    """The three campaigns with the most influenced revenue (all time), with their ROI."""
    best = campaigns.sort("influenced_revenue_usd", descending=True).head(3)
    rows = []
    for r in best.iter_rows(named=True):
        fig.add("campaigns", "influenced_revenue_usd", r["influenced_revenue_usd"], r["campaign_name"])
        fig.add("campaigns", "campaign_roi_pct", r["campaign_roi_pct"], r["campaign_name"])
        revenue, cost = usd(r["influenced_revenue_usd"]), usd(r["campaign_cost_usd"])
        rows.append([r["campaign_name"], count(r["influenced_deals"]), revenue, cost, pct(r["campaign_roi_pct"], 0)])
    out = ["", "Campaigns with the most influenced revenue (all time):", ""]
    return out + table(["Campaign", "Deals", "Influenced revenue", "Cost", "ROI"], rows)


@dataclass(frozen=True)
class SalesTeam:
    """What the outlook rules over: None where the marts hold nothing up to the period's end."""

    team: Team | None
    pipeline: Pipeline | None
    campaigns: pl.DataFrame  # campaigns other than "(no campaign)"


def sales_team(
    fig: Figures,
    attainment_mart: pl.DataFrame,
    pipeline_mart: pl.DataFrame,
    campaigns: pl.DataFrame,
    end: date,
    data_end: date,
) -> tuple[list[str], SalesTeam]:
    """The whole section; ``end`` is the period's last day, ``data_end`` the data's (for a month's pace)."""
    out = ["", "## Sales team", ""]
    team: Team | None = None
    pipe_facts: Pipeline | None = None
    att = attainment_mart.filter(pl.col("period_type") == "month", pl.col("period_start") <= end)
    if att.height:
        lines, team = attainment(fig, att, data_end)
        out += lines
    pipe = pipeline_mart.filter(pl.col("month") <= end)
    if pipe.height:
        lines, pipe_facts = pipeline(fig, pipe)
        out += lines
    camp = campaigns.filter(pl.col("campaign_id") != NO_CAMPAIGN)
    if camp.height:
        out += top_campaigns(fig, camp)
    return out, SalesTeam(team, pipe_facts, camp)
