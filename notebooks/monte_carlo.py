# %% [markdown]
# # Monte Carlo: the queue of $M$ workers and asynchronous SGD
#
# The queue (`sim.queue`) draws work times, orders the writes and gives each update its staleness $\tau_t$;
# asynchronous SGD (`sim.async_sgd`) applies the gradient taken at each worker's snapshot. With exponential
# work times, $\tau \sim \mathrm{Geom}(1/M)$ and the mean iterates follow momentum $\mu_S = 1 - 1/M$.

# %%
from reports.notebook_support import show_part

# %%
show_part('monte-carlo')
