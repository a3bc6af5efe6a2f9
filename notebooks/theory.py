# %% [markdown]
# # Theory: the paper's results, checked symbolically and on quadratics
#
# This notebook only reads stored results (`make report` computes them). The model: with staleness law
# $q_l = P(\tau = l)$, Theorem 2 gives $E[w_{t+1} - w_t] = -\alpha \sum_l q_l\, E\nabla f(w_{t-l})$; with
# $q_l = (1-\mu_S)\mu_S^l$ (Theorem 3) this is momentum,
# $E[w_{t+1} - w_t] = \mu_S E[w_t - w_{t-1}] - (1-\mu_S)\alpha E\nabla f(w_t)$, and $M$ workers with exponential
# work times give $\mu_S = 1 - 1/M$ (Theorem 5).

# %%
from reports.notebook_support import claims_table, load_result, show_figures

theory = load_result("theory")
for name, check in theory.summary["checks"].items():
    print(f"{name:20s} holds={check['holds']}  residual={check.get('residual')}")

# %% [markdown]
# ## Figures 6 and 7, and the limit of asynchrony (Theorem 7)
# The rate is $\gamma = \max_i$ (largest root modulus of $r^3 - z_i r^2 + (\mu_S+\mu_L+\mu_S\mu_L) r - \mu_S\mu_L$),
# $z_i = 1 + \mu_S + \mu_L - \alpha(1-\mu_S)\lambda_i$.

# %%
show_figures("quadratic_rates")

# %% [markdown]
# ## The limit of asynchrony, below it, and the first-order prescription
# Beyond $M_0 = \lceil 1/(1-\mu^*) \rceil$ the best rate worsens with every worker (the paper). Below $M_0$ the
# paper's picture of a constant total momentum would keep the sequential rate; Theorem 7 does not
# (finding-limit-below-m0), and the rule $\mu_L^* \approx \mu^*(Q) - (1 - 1/M)$ misses the optimum by more than 0.1
# at large $Q$, though at little cost in rate (finding-first-order-prescription).

# %%
show_figures("quadratic_limit")
claims_table(["symbolic", "quadratic"])
