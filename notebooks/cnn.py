# %% [markdown]
# # CNN training under simulated asynchrony (Figs. 3, 4, 5, 8)
#
# cifar10_quick on Fashion-MNIST; M workers driven by the same queue as the Monte Carlo; explicit momentum
# $\mu_L$ at the store. The implicit momentum $\mu_S = 1 - 1/M$ suggests the best $\mu_L$ should fall as $M$
# grows. Paired seeds, times to target censored (not dropped), every verdict on a bootstrap interval over seeds.
# Quick profile: CPU, 14 x 14 inputs, width 0.25, M up to 16; full profile: GPU, paper scale (committed evidence).
# The same sweep runs the closed loop beyond the paper (figure `cnn_closed_loop`, claim `extension-closed-loop-cnn`):
# tuned once at M = 1, then $\mu_L = \mu_{sync} - \hat\mu_S$ from the staleness the queue logs.

# %%
from reports.notebook_support import claims_table, load_result, show_figures

try:
    result = load_result("cnn_momentum")
except RuntimeError as exc:
    print(exc)
else:
    print("targets:", result.summary["targets"], "(warm start:", result.summary["warm"]["targets"], ")")
    print("runs per M:", result.summary["runs_per_workers"], "diverged:", result.summary["diverged"])
    if result.summary.get("closed_loop"):
        loop = result.summary["closed_loop"]
        print("closed loop: tuned at M = 1 to mu_L", loop["mu_sync"], "step", loop["step_sync"], "; diverged:",
              loop["diverged"])
    show_figures("cnn_momentum")

# %%
claims_table(["cnn"])
