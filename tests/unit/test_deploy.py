"""docker-compose.yml cannot run here (no Docker engine): check it parses and runs what the Makefile runs."""
import re
import shlex
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def makefile_recipe(target: str) -> list[str]:
    lines = (REPO / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(re.sub(r"\$\(BIN\)/", "", line.strip()))
    return recipe


def compose_command(service: dict) -> list[str]:
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        return [part.strip() for part in command[2].split("&&")]
    return [shlex.join(command)]


def test_compose_parses_with_the_services_the_issue_names():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "migrate", "api", "sequencer"} <= set(services)
    assert services["db"]["healthcheck"]["test"]
    assert any(v.startswith("pgdata:") for v in services["db"]["volumes"]) and "pgdata" in compose["volumes"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["api"]["environment"]["DATABASE_URL"].startswith("postgresql://")


def test_compose_runs_the_makefile_commands():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    assert compose_command(services["migrate"]) == makefile_recipe("migrate")
    run = makefile_recipe("run")
    assert len(run) == 1
    # make run binds to 127.0.0.1:$PORT on the command line; compose sets BIND in the environment.
    assert compose_command(services["api"])[0] == run[0].replace(" --bind 127.0.0.1:$(PORT)", "")


def test_compose_sequencer_is_the_one_gunicorn_embeds_for_make_run():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    conf = (REPO / "service" / "gunicorn_conf.py").read_text()
    embedded = re.search(r'\[sys.executable, "-m", (.*?)\]', conf, re.S).group(1)
    embedded_args = [part.strip().strip('"') for part in embedded.replace("\n", " ").split(",") if part.strip()]
    assert services["sequencer"]["command"] == embedded_args[:-1]  # minus --exit-with-parent
    assert embedded_args[-1] == "--exit-with-parent"
    assert services["api"]["environment"]["EMBEDDED_SEQUENCER"] == "0"
    assert services["sequencer"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_scheduler_generates_and_revises_both_periods_hourly():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    loop = services["scheduler"]["command"][2]
    for command in ("generate", "revise"):
        assert f"reports {command} --period weekly" in loop and f"reports {command} --period monthly" in loop
    assert "sleep 3600" in loop and services["scheduler"]["restart"] == "unless-stopped"
    assert services["scheduler"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_runs_a_monitor_over_http_with_its_own_state():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    monitor = services["services"]["monitor"]
    command = monitor["command"]
    assert command[:5] == ["flask", "--app", "service", "ledger", "monitor"]
    assert command[command.index("--url") + 1] == "http://api:8000"
    assert command[command.index("--state") + 1].startswith("/monitor/") and "monitor:/monitor" in monitor["volumes"]
    assert "--interval" in command and "DATABASE_URL" not in monitor["environment"]  # HTTP only
    assert monitor["depends_on"]["api"]["condition"] == "service_healthy" and "monitor" in services["volumes"]
