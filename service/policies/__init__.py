"""Policy versions: the bundled ones, publishing new ones, the rule set reports are judged with, simulation."""
