"""``supportchat demo`` leaves a history whose report means something: every kind of figure is there."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from supportchat.cli.app import app
from supportchat.reports import METRICS_VERSION, GroupBy, build_report, histories
from supportchat.reports.upkeep import fact_store, stored_or_computed
from supportchat.stores.sql import SQLStore


def test_the_demo_history_gives_a_meaningful_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    made = CliRunner().invoke(app, ["demo", "-n", "60", "--days", "21", "--seed", "5", "--json", "--database-url", url])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["created"] == 60
    store = SQLStore.from_url(url)
    try:
        facts = fact_store(store)
        assert facts is not None and facts.version() == METRICS_VERSION  # the demo stored the facts
        end = datetime.now(UTC) + timedelta(days=1)
        start = end - timedelta(days=30)
        report = stored_or_computed(store, start, end, GroupBy.WEEK)
        assert report == build_report(histories(store), start, end, GroupBy.WEEK)
        total = report.total
        assert total.created == 60 and total.resolved > 0 and total.reopened > 0
        assert total.first_response.wall.count > 0 and total.next_response.wall.count > 0
        assert total.csat.count > 0 and total.backlog > 0
        for target in (total.sla.first_response, total.sla.resolution):
            assert 0 < target.attained < target.count  # some deadlines met, some breached
        assert sum(1 for row in report.rows if row.created) >= 3  # spread over the weeks
        by_agent = stored_or_computed(store, start, end, GroupBy.AGENT)
        agents = {row.group for row in by_agent.rows if row.first_response.wall.count}
        assert len(agents) >= 2  # transfers and several agents
        automated = [m for h in histories(store) for m in h.messages if m.automated]
        assert automated  # acknowledgements, which never count as a response
    finally:
        store.close()
