"""pearl-lite: a compact, readable PEARL (Rakelly et al., ICML 2019) and the course built on it.

The package layout follows the course:

- ``distributions``: Gaussian KL, product of Gaussians, tanh-Gaussian (notebooks 1-3)
- ``vae``: the variational auto-encoder of notebook 1
- ``encoder``: PEARL's context encoders (notebook 2)
- ``nets``, ``sac``, ``buffers``: soft actor-critic (notebook 3)
- ``envs``: the meta-RL task distributions (point robots and the MuJoCo suite)
- ``pearl``, ``config``, ``train``, ``evaluate``: PEARL itself (notebook 4)
- ``exercises``: the learner's stubs; ``checks``: the checks a notebook cell runs on them
- ``utils``, ``plotting``, ``widgets``: seeding, devices, logging, figures, sliders
"""

__version__ = "0.1.0"
