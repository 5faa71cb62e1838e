"""What only the notebooks need: the VAE and its digits, toy tasks, widgets, figures, checks.

- notebook 1: :mod:`~pearl_lite.course.data` (the 8x8 digits), :mod:`~pearl_lite.course.vae`,
  :mod:`~pearl_lite.course.widgets_vae` (the beta slider);
- notebook 2: :mod:`~pearl_lite.course.toy_tasks` (goal-velocity tasks with an exact
  posterior), :mod:`~pearl_lite.course.widgets_encoder` (context-size, order and beta sliders);
- notebook 4: :mod:`~pearl_lite.course.pearl_viz` (training, adaptation and trajectory figures),
  :mod:`~pearl_lite.course.pearl_measures` (the point robots' optimal return, the KL per latent
  dimension, the context distribution mismatch);
- every notebook: :mod:`~pearl_lite.course.plotting` (the course style),
  :mod:`~pearl_lite.course.checks` (the exercise checks), :mod:`~pearl_lite.course.notebook_tools`.

May import everything below it; nothing in the library imports it (only notebooks, scripts
and tests do).
"""
