"""The targets the configuration enables, by name: the one place that maps tables to targets.

Issue 7 adds Instatus, Better Stack, a generic webhook and PagerDuty here.
"""

from __future__ import annotations

from cockpit.comms.slack import SlackBot, SlackWebhook
from cockpit.comms.statuspage import Statuspage
from cockpit.comms.target import Target
from cockpit.config import Config


def configured_targets(config: Config) -> dict[str, Target]:
    """Every enabled target, in the order deliveries are queued."""
    targets: list[Target] = []
    if config.slack is not None:
        slack = config.slack
        targets.append(SlackWebhook(slack) if slack.mode == "webhook" else SlackBot(slack))
    if config.statuspage is not None:
        targets.append(Statuspage(config.statuspage, config.severities))
    return {target.name: target for target in targets}
