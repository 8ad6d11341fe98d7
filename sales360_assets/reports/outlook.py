"""The end of the sales team report: recommended actions, success metrics and risks. No Dagster here.

None of it is fixed text: each line is a rule over the figures the sections computed (a segment
to protect, loss-making products, a busy weekday, reps below pace, alerting pipeline segments,
campaign ROI, currency exposure …), so it changes with the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from sales360_assets.kpis.glossary import KPIS
from sales360_assets.reports.figures import Figures
from sales360_assets.reports.markdown import pct, table, usd
from sales360_assets.reports.sales_sections import Portfolio, Seasonality
from sales360_assets.reports.team_sections import SalesTeam, segment_names
from sales360_assets.settings import REGIONS, REPORTING_CURRENCY


@dataclass(frozen=True)
class Findings:
    """What the sections found that the actions, targets and risks are ruled from."""

    head: dict[str, float | None]  # the headline KPIs of the period
    segments: pl.DataFrame  # by revenue, largest first
    portfolio: Portfolio
    by_region: pl.DataFrame  # revenue per region
    seasonality: Seasonality
    sales_team: SalesTeam

    @property
    def alerts(self) -> pl.DataFrame:
        pipeline = self.sales_team.pipeline
        return pipeline.alerts if pipeline is not None else pl.DataFrame()


def _campaign_action(campaigns: pl.DataFrame) -> list[str]:
    roi = campaigns.filter(pl.col("campaign_roi_pct").is_not_null()).sort("campaign_roi_pct", descending=True)
    if not roi.height:
        return []
    r = roi.row(0, named=True)
    if r["campaign_roi_pct"] > 0:
        return [f"Scale what worked: **{r['campaign_name']}** returned {pct(r['campaign_roi_pct'], 0)} on its cost."]
    return [
        "Review campaign spend: no campaign with a known cost has paid back in influenced revenue yet "
        f"(best: **{r['campaign_name']}**, ROI {pct(r['campaign_roi_pct'], 0)})."
    ]


def _portfolio_actions(portfolio: Portfolio) -> list[str]:
    actions = []
    losers = portfolio.losers
    if losers.height:
        names = ", ".join(f"`{s}`" for s in losers.sort("gross_margin_usd").head(3)["sku"].to_list())
        actions.append(
            f"Review price or cost of the {losers.height} loss-making products (worst: {names}); they cost "
            f"{usd(-losers['gross_margin_usd'].sum())} of margin this period."
        )
    if portfolio.unmapped_revenue:
        actions.append(
            f"Map the unmapped SKUs to the catalogue: {usd(portfolio.unmapped_revenue)} of revenue has no cost, so its "
            "margin is overstated."
        )
    return actions


def actions(findings: Findings) -> list[str]:
    """The "Recommended actions" section."""
    out = []
    if findings.segments.height:
        top_seg = findings.segments.row(0, named=True)
        out.append(
            f"Protect the **{top_seg['segment']}** segment ({pct(top_seg['share_pct'])} of revenue): retention offers "
            "and replenishment reminders for its repeat buyers."
        )
    out += _portfolio_actions(findings.portfolio)
    overall_peak = findings.seasonality.peaks.filter(pl.col("region") == "all")
    if overall_peak.height:
        p = overall_peak.row(0, named=True)
        out.append(
            f"Plan staffing, stock and campaign sends around **{p['period_name']}**, the busiest day "
            f"({p['seasonal_index']:.2f}× an average day)."
        )
    team = findings.sales_team.team
    if team is not None and team.below_half_pace:
        out.append(
            f"Coach the {team.below_half_pace} reps below half of their quota pace; review their pipeline coverage "
            "with their managers."
        )
    if findings.alerts.height:
        out.append(
            f"Run a win/loss review for {segment_names(findings.alerts)} (win rate below threshold for months running)."
        )
    if findings.sales_team.campaigns.height:
        out += _campaign_action(findings.sales_team.campaigns)
    return ["", "## Recommended actions", "", *(f"{i}. {a}" for i, a in enumerate(out, 1))]


def success_metrics(fig: Figures, findings: Findings) -> list[str]:
    """The "Success metrics for the next period" section: each KPI now and its target, with the rule."""
    targets: list[list[str]] = []

    def target(
        name: str,
        current: float | None,
        goal: float | None,
        fmt: Callable[[float | None], str],
        rule: str,
        label: str | None = None,
    ) -> None:
        fig.add("success_metrics", f"{name}_target", goal)
        targets.append([label or KPIS[name].label, fmt(current), fmt(goal), rule])

    head = findings.head
    target("revenue_usd", head.get("revenue_usd"), (head.get("revenue_usd") or 0) * 1.05, usd, "+5 % on this period")
    target("gross_margin_pct", head.get("gross_margin_pct"), head.get("gross_margin_pct"), pct, "hold or improve")
    aov = head.get("average_order_value_usd")
    target("average_order_value_usd", aov, (aov or 0) * 1.02, usd, "+2 %")
    team, pipeline = findings.sales_team.team, findings.sales_team.pipeline
    if team is not None:
        quota = team.reps["quota_usd"].sum()
        attained = team.reps["credited_bookings_usd"].sum() / quota * 100.0 if quota else None
        target("attainment_pct", attained, 100.0, pct, "every team at quota")
    if pipeline is not None:
        lowest, threshold = pipeline.lowest_win_rate, float(pipeline.threshold)
        target(
            "win_rate_pct", lowest, threshold, pct, "no region below the alert threshold", "Win rate (lowest region)"
        )
    return ["", "## Success metrics for the next period", "", *table(["KPI", "Now", "Target", "Rule"], targets, (0, 3))]


def _currency_risk(fig: Figures, findings: Findings) -> list[str]:
    # Regions come from the deployment configuration: which ones earn in another currency varies.
    foreign = {r.code: r.currency for r in REGIONS.values() if r.currency != REPORTING_CURRENCY}
    non_usd = findings.by_region.filter(pl.col("region").is_in(list(foreign)))["revenue_usd"].sum()
    revenue_total = findings.portfolio.revenue_total
    fx_share = fig.add("risks", "non_usd_revenue_share_pct", non_usd / revenue_total * 100.0 if revenue_total else None)
    if not fx_share:
        return []
    names = list(dict.fromkeys(foreign.values()))
    earned_in = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    return [
        f"Currency: {pct(fx_share)} of revenue is earned in {earned_in}; a stronger dollar lowers reported revenue."
    ]


def risks(fig: Figures, findings: Findings) -> list[str]:
    """The "Risks" section."""
    out = []
    portfolio = findings.portfolio
    if portfolio.top5_share is not None and portfolio.top5_share > 25:
        out.append(
            f"Concentration: five products make {pct(portfolio.top5_share)} of revenue; a stock-out on any of them "
            "shows at once."
        )
    if portfolio.losers.height:
        out.append(f"Margin drain: {portfolio.losers.height} products sell below cost.")
    out += _currency_risk(fig, findings)
    if findings.alerts.height:
        out.append(
            f"Pipeline: {findings.alerts.height} region × deal-type segment(s) kept a low win rate for months running."
        )
    if findings.seasonality.months_observed < 12:
        out.append(
            "History: less than a year of data, so the yearly seasonality and year-on-year comparisons are not "
            "available yet."
        )
    if portfolio.unmapped_revenue:
        out.append("Data quality: unmapped products carry no cost, overstating margin until they are mapped.")
    return ["", "## Risks", "", *(f"- {r}" for r in out)]
