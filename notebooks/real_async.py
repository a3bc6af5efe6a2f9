# %% [markdown]
# # Real asynchrony: a Dask parameter server on this machine
#
# M worker processes compute logistic-regression gradients; the server applies whichever arrives first and
# records the staleness $\tau_t$ = current version − version read. With injected exponential work times the
# measured law should be $\mathrm{Geom}(1/M)$; with natural work times we compare it with the queue model fed
# with the measured cycle times.

# %%
from reports.notebook_support import claims_table, load_result, show_figures

try:
    result = load_result("real_async")
except RuntimeError as exc:
    print(exc)
else:
    for m, g in result.summary["geometric"].items():
        print(f"M={m}: mean {g['mean']:.2f}, variance {g['var']:.1f} (geometric: {int(m) * (int(m) - 1)})")
    show_figures("real_async")

# %% [markdown]
# ## The step rules on the real server
#
# The queue study's synchronous tuning and per-M oracle replayed on the parameter server (M = 4, 8, 16 worker
# processes, injected exponential work times, the queue study's workload and target), with the controllers the
# queue study found closest, the delay-adaptive step alone and the synchronous tuning reused: ten single runs each,
# committed evidence.

# %%
try:
    steps = load_result("real_step_rules")
except RuntimeError as exc:
    print(exc)
else:
    for label, case in steps.summary["cases"].items():
        oracle = case["strategies"]["oracle"]
        print(f"{label}: oracle {oracle['median']:.0f} updates on the server, {case['queue_oracle']['median']:.0f} "
              f"under the queue")
    show_figures("real_step_rules")

# %%
claims_table(["real_async"])
