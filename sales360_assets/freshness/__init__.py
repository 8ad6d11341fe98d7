"""Commission SLAs: one evaluation behind the UI's checks, ``sales360 freshness`` and the alerts.

``sla.yaml`` (next to this package; a deployment overrides it with ``SALES360_SLA_CONFIG``) says
when each table must be ready. Modules, by subject:

* ``config``: the SLA types and parsing (``daily_partitions``, ``after_partitions``, ``max_age``);
* ``verdicts``: one asset, due date and region — observed materializations and the verdict
  (complete: written by a run started after the business day closed);
* ``evaluation``: the pure rules — every due date of a look-back window, the oldest gap per
  region, the SLA state; ``wording``: the plain-language status lines;
* ``reader``: reads a Dagster instance for the evaluation; ``evaluate_slas`` is the entry point;
* ``checks``: the ``sla_<name>`` asset checks the UI shows, recorded by the alert sensor;
* ``notification``: breach, late and recovery notices, and the notifiers (log, webhook);
* ``report``: the text ``sales360 freshness`` prints.
"""

from sales360_assets.freshness.checks import (
    CHECK_PREFIX,
    CheckOutcome,
    RecordedCheck,
    build_sla_checks,
    check_key,
    check_name,
    check_outcome,
    read_sla_check_results,
    report_sla_check_evaluations,
    sla_check_specs,
)
from sales360_assets.freshness.config import (
    DEFAULT_LOOKBACK_DAYS,
    DEFAULT_SLA_CONFIG,
    SLA_CONFIG_ENV,
    WEEKDAYS,
    AfterPartitionsSla,
    DailyPartitionSla,
    MaxAgeSla,
    Sla,
    SlaConfig,
    SlaConfigError,
    load_sla_config,
    parse_sla_config,
)
from sales360_assets.freshness.evaluation import AssetAge, RegionStatus, SlaState, SlaStatus, evaluate_config
from sales360_assets.freshness.notification import (
    WEBHOOK_ENV,
    AlertPlan,
    FanoutNotifier,
    LogNotifier,
    Notice,
    Notifier,
    NotifierError,
    SlaAlert,
    WebhookNotifier,
    notifier_from_env,
    plan_alerts,
)
from sales360_assets.freshness.reader import InstanceStatusReader, evaluate_slas
from sales360_assets.freshness.report import format_status, format_statuses
from sales360_assets.freshness.verdicts import (
    Materialization,
    PartitionObservation,
    PartitionState,
    StatusReader,
    Verdict,
    judge_partition,
)

__all__ = [
    "CHECK_PREFIX",
    "DEFAULT_LOOKBACK_DAYS",
    "DEFAULT_SLA_CONFIG",
    "SLA_CONFIG_ENV",
    "WEBHOOK_ENV",
    "WEEKDAYS",
    "AfterPartitionsSla",
    "AlertPlan",
    "AssetAge",
    "CheckOutcome",
    "DailyPartitionSla",
    "FanoutNotifier",
    "InstanceStatusReader",
    "LogNotifier",
    "Materialization",
    "MaxAgeSla",
    "Notice",
    "Notifier",
    "NotifierError",
    "PartitionObservation",
    "PartitionState",
    "RecordedCheck",
    "RegionStatus",
    "Sla",
    "SlaAlert",
    "SlaConfig",
    "SlaConfigError",
    "SlaState",
    "SlaStatus",
    "StatusReader",
    "Verdict",
    "WebhookNotifier",
    "build_sla_checks",
    "check_key",
    "check_name",
    "check_outcome",
    "evaluate_config",
    "evaluate_slas",
    "format_status",
    "format_statuses",
    "judge_partition",
    "load_sla_config",
    "notifier_from_env",
    "parse_sla_config",
    "plan_alerts",
    "read_sla_check_results",
    "report_sla_check_evaluations",
    "sla_check_specs",
]
