"""The course's part of a JupyterHub configuration: what every learner's server needs.

instructors/hub.md says what these settings are for. Each learner's single-user server gets
the course's variables: the data sets of a shared, read-only mirror (laid out as instructors/guide.md
describes: ``datasets/``, ``keras/models/``, ``huggingface/``), no network, the quick profile, and
GPU memory growth so that several kernels share a GPU. Keras and the Hugging Face client write into
their caches, so each server starts by copying the mirror's ``keras/`` and ``huggingface/`` into
the learner's home, once (``~/.cache/tlcourse/``), and points ``KERAS_HOME`` and ``HF_HOME`` there.
A spawner passes on only the variables it is given: without these, a learner's kernel would try
to download everything.

The Littlest JupyterHub (TLJH): copy this file to ``/opt/tljh/config/jupyterhub_config.d/tlcourse.py``
and ``sudo tljh-config reload``. A hub of your own: ``load_subconfig("/path/to/this/file")`` from your
jupyterhub_config.py. Zero to JupyterHub on Kubernetes: values.yaml beside this file does the same.

Read from the hub's own environment when it starts (or edit the defaults here):

- ``TLCOURSE_MIRROR``: the mirror's folder, readable by every learner (default ``/srv/mirror``).
- ``TLCOURSE_DATA_DIR``: the data sets, if not the mirror's ``datasets/`` (read in place).
- ``TLCOURSE_MEM_LIMIT``, ``TLCOURSE_CPU_LIMIT``: the limits per learner (default 6G and 2).

tests/test_jupyterhub.py starts a real hub with this file and checks what two learners' kernels see.
"""

import os

c = get_config()  # noqa: F821 - JupyterHub (traitlets) defines it in the files it loads

MIRROR = os.environ.get("TLCOURSE_MIRROR", "/srv/mirror")

#: The variables every learner's server starts with (KERAS_HOME and HF_HOME are set by START below).
COURSE_ENVIRONMENT = {
    "TLCOURSE_MIRROR": MIRROR,
    "TLCOURSE_DATA_DIR": os.environ.get("TLCOURSE_DATA_DIR") or os.path.join(MIRROR, "datasets"),
    "HF_HUB_OFFLINE": "1",
    "TLCOURSE_OFFLINE": "1",  # fail at once with advice rather than try the network
    # The sizes the schedule's minutes were measured at, GPU or not.
    "TLCOURSE_PROFILE": "quick",
    # TensorFlow takes a GPU's whole memory at start unless told to grow: one kernel per GPU otherwise.
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",
}

#: Run as the learner before the server: writable copies of the two caches, made once per learner.
START = """\
cache="$HOME/.cache/tlcourse"
mkdir -p "$cache"
for part in keras huggingface; do
  if [ ! -e "$cache/$part" ] && [ -d "$TLCOURSE_MIRROR/$part" ]; then
    cp -R "$TLCOURSE_MIRROR/$part" "$cache/$part.partial" && chmod -R u+w "$cache/$part.partial" &&
      mv "$cache/$part.partial" "$cache/$part"
  fi
done
export KERAS_HOME="$cache/keras" HF_HOME="$cache/huggingface"
exec "$0" "$@"
"""

c.Spawner.environment.update(COURSE_ENVIRONMENT)
# `sh -c START server args...`: START's "$0" is the server's command, "$@" the hub's arguments.
c.Spawner.cmd = ["sh", "-c", START, "jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
# Per learner, for spawners that enforce limits (TLJH's systemd spawner, KubeSpawner; the local
# process spawners ignore them): above the largest lesson kernel measured, 04's 4.5 GiB peak in the
# quick profile (instructors/checklist.md), with room for JupyterLab itself.
c.Spawner.mem_limit = os.environ.get("TLCOURSE_MEM_LIMIT", "6G")
c.Spawner.cpu_limit = float(os.environ.get("TLCOURSE_CPU_LIMIT", "2"))
