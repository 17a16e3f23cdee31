"""chaos kill / stop / pause / latency: one bounded, reversible fault on a local stack's component."""

from __future__ import annotations

from typing import Annotated

import typer

from ecomctl.cli.render import console, err_console, print_json
from ecomctl.settings import LOCAL_STACK

chaos_app = typer.Typer(
    name="chaos", no_args_is_help=True,
    help="Faults on demand on the local stack, each bounded in time and undone at its end or on Ctrl-C.",
)

ComponentArg = Annotated[str, typer.Argument(help="A component name (see `ecomctl status`).")]
ServiceArg = Annotated[str, typer.Argument(help="A service name (see `ecomctl status`).")]
ForOpt = Annotated[float, typer.Option("--for", min=1, max=300, help="Seconds until it is undone (1-300).")]
StackOpt = Annotated[str, typer.Option("--stack", "-s", help="Stack name (only 'local' is accepted).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the outcome as one JSON object.")]


def _inject(stack: str, action: str, component: str, for_s: float, ms: int, as_json: bool) -> None:
    from ecomctl.local.chaos import inject, name_problem

    problem = name_problem(action, component)
    if problem:
        raise typer.BadParameter(problem, param_hint="'SERVICE'" if action == "latency" else "'COMPONENT'")

    def say(message: str) -> None:
        err_console.print(f"[dim]{message}[/]", highlight=False)

    outcome = inject(stack, action, component, for_s, ms, progress=say)
    if as_json:
        print_json(outcome.as_dict())
        return
    early = " (ended early)" if outcome.interrupted else ""
    console.print(f"{component}: {action} for {outcome.fault_s:.1f} s{early}; healthy again "
                  f"{outcome.recovery_s:.1f} s after {'the kill' if action == 'kill' else 'the restore'}",
                  highlight=False)


@chaos_app.command()
def kill(component: ComponentArg, stack: StackOpt = LOCAL_STACK, as_json: JsonOpt = False) -> None:
    """SIGKILL a component's processes; wait for supervisord's restart and its health."""
    _inject(stack, "kill", component, 1, 0, as_json)


@chaos_app.command()
def stop(component: ComponentArg, for_s: ForOpt = 30, stack: StackOpt = LOCAL_STACK,
         as_json: JsonOpt = False) -> None:
    """Stop a component cleanly (its port closes), start it again after --for seconds."""
    _inject(stack, "stop", component, for_s, 0, as_json)


@chaos_app.command()
def pause(component: ComponentArg, for_s: ForOpt = 30, stack: StackOpt = LOCAL_STACK,
          as_json: JsonOpt = False) -> None:
    """Freeze a component (SIGSTOP: connections hang), continue it after --for seconds."""
    _inject(stack, "pause", component, for_s, 0, as_json)


@chaos_app.command()
def latency(service: ServiceArg,
            ms: Annotated[int, typer.Option("--ms", min=1, max=5000, help="Added delay in ms (1-5000).")] = 200,
            for_s: ForOpt = 30, stack: StackOpt = LOCAL_STACK, as_json: JsonOpt = False) -> None:
    """Delay a service's requests by up to --ms (stopped --ms, running 50 ms, repeated) for --for seconds."""
    _inject(stack, "latency", service, for_s, ms, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(chaos_app)
