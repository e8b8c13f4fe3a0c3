"""The targets the configuration enables, by name: the one place that maps tables to targets."""

from __future__ import annotations

from collections.abc import Mapping

from cockpit.comms.betterstack import Betterstack
from cockpit.comms.instatus import Instatus
from cockpit.comms.pagerduty import PagerDuty
from cockpit.comms.slack import SlackBot, SlackWebhook
from cockpit.comms.statuspage import Statuspage
from cockpit.comms.target import Target
from cockpit.comms.webhook import Webhook
from cockpit.config import Config


def held(targets: Mapping[str, Target]) -> dict[str, str]:
    """Targets this process cannot send to, each with why: a secret it lacks, named by its
    key (never its value). Their deliveries wait, queued, for a cockpit that has it."""
    return {
        name: str(missing)
        for name, target in targets.items()
        if (missing := target.missing()) is not None
    }


def configured_targets(config: Config) -> dict[str, Target]:
    """Every enabled target, in the order deliveries are queued."""
    targets: list[Target] = []
    if config.slack is not None:
        slack = config.slack
        targets.append(SlackWebhook(slack) if slack.mode == "webhook" else SlackBot(slack))
    if config.statuspage is not None:
        targets.append(Statuspage(config.statuspage, config.severities))
    if config.instatus is not None:
        targets.append(Instatus(config.instatus))
    if config.betterstack is not None:
        targets.append(Betterstack(config.betterstack))
    if config.webhook is not None:
        targets.append(Webhook(config.webhook))
    if config.pagerduty is not None:
        targets.append(PagerDuty(config.pagerduty, config.severities))
    return {target.name: target for target in targets}
