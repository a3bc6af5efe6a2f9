# %% [markdown]
# # Beyond the paper
#
# What asynchrony begets when work times are not memoryless (Theorem 2's recurrence for any staleness law, against
# the Monte Carlo), closed-loop momentum compensation from the measured staleness, the later literature's step
# rules on the queue, and when asynchrony pays in wall-clock time. Each claim below says what its verdict means.

# %%
from reports.notebook_support import show_part

show_part("beyond")
