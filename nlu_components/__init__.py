"""Rasa NLU graph components of this assistant, named in config.yml."""

import rasa_tuning

# Every Rasa process that loads this assistant's model imports this package (config.yml names its component),
# `rasa shell` and `rasa test` as well as `rasa run`: the one place where they all get rasa_tuning's patches.
rasa_tuning.install()
