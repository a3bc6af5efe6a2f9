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

# %%
claims_table(["real_async"])
