"""The contract the program and the policy pack share, defined here, at the bottom of the pack.

Pure modules (standard library, plus PyYAML for the catalog reader): the tag/label vocabulary, the
rotation classes and periods, the access model's actions, how contract labels are spelled on GCP,
AWS's document quotas, how rejected input is described without being shown, and the pack's reader
of the catalog file. The program (``infra/``, ``nt_secrets/``) imports them from here (the old
``infra`` modules re-export them); nothing here imports the program, so the pack installs alone.
"""
