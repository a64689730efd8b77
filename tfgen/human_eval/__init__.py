"""Human evaluation of generated images and clips: the thesis's timed real-or-generated study.

`sources` loads stimuli (a registry of loaders), `study` prepares a study directory and the
trial schedules, `storage` keeps every answer in SQLite, `analysis` computes the fraction
judged real per presentation time (Fig. 4.9) and `server` is the local web page subjects use.
Run it with `python -m tfgen.bin.human_eval serve|report`.
"""
