# %% [markdown]
# # Theory: the paper's results, checked symbolically and on quadratics
#
# This notebook only reads stored results (`make report` computes them). The model: with staleness law
# $q_l = P(\tau = l)$, Theorem 2 gives $E[w_{t+1} - w_t] = -\alpha \sum_l q_l\, E\nabla f(w_{t-l})$; with
# $q_l = (1-\mu_S)\mu_S^l$ (Theorem 3) this is momentum,
# $E[w_{t+1} - w_t] = \mu_S E[w_t - w_{t-1}] - (1-\mu_S)\alpha E\nabla f(w_t)$, and $M$ workers with exponential
# work times give $\mu_S = 1 - 1/M$ (Theorem 5).

# %%
from reports.notebook_support import show_part

# %%
show_part('theory')

# %%
show_part('quadratic')
