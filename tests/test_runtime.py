import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import tlcourse
from tlcourse import runtime, settings


def test_profile_from_environment_and_argument(env):
    env.set(settings.PROFILE_ENV, "full")
    assert runtime.active_profile().name == "full"
    assert runtime.active_profile("quick").name == "quick"
    env.set(settings.PROFILE_ENV, "huge")
    with pytest.raises(ValueError, match="huge"):
        runtime.active_profile()
    env.set(settings.PROFILE_ENV, None)
    assert runtime.active_profile().name == ("full" if runtime.gpu_devices() else "quick")


def test_profiles_scale_up():
    q, f = runtime.PROFILES["quick"], runtime.PROFILES["full"]
    assert q.image_size < f.image_size and q.epochs < f.epochs and f.max_per_class is None


def test_setup_seeds_everything_and_reports(capsys):
    import tensorflow as tf

    r = tlcourse.setup(seed=7)
    a = (np.random.rand(), keras.random.uniform((2,)).numpy().tolist())
    tlcourse.setup(seed=7, verbose=False)
    b = (np.random.rand(), keras.random.uniform((2,)).numpy().tolist())
    assert a == b
    out = capsys.readouterr().out
    assert f"TensorFlow {tf.__version__}" in out and "profile: quick" in out and "seed 7" in out
    assert r.precision_policy == "float32" and r.replicas == 1 and r.deterministic


def test_setup_puts_blas_on_one_thread_unless_told_otherwise():
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    if not blas_threads():
        pytest.skip("NumPy reports no BLAS library here")
    with threadpool_limits(limits=2, user_api="blas"):
        tlcourse.setup(seed=0, verbose=False)
        assert blas_threads() == {1}
        threadpool_limits(limits=2, user_api="blas")
        tlcourse.setup(seed=0, blas_threads=None, verbose=False)
        assert blas_threads() == {2}
    tlcourse.setup(seed=0, verbose=False)


def test_mixed_precision_switch():
    try:
        r = tlcourse.setup(seed=0, mixed_precision=True, verbose=False)
        assert r.precision_policy == "mixed_float16"
        assert keras.layers.Dense(2).dtype_policy.compute_dtype == "float16"
    finally:
        tlcourse.setup(seed=0, mixed_precision=False, verbose=False)
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.slow
def test_strategy_on_two_logical_cpus_trains_a_model():
    """The several-GPU path, exercised on a CPU split into two logical devices."""
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf, keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from tlcourse import runtime, settings
        strategy = runtime.choose_strategy(tf.config.list_logical_devices("CPU"))
        with strategy.scope():
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
            model.compile("sgd", "mse")
        h = model.fit(np.ones((32, 4)), np.zeros((32, 2)), batch_size=8, epochs=2, verbose=0)
        print(type(strategy).__name__, strategy.num_replicas_in_sync, h.history["loss"][-1] < h.history["loss"][0])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["MirroredStrategy", "2", "True"]


def test_one_device_gets_the_default_strategy():
    assert runtime.choose_strategy([]).num_replicas_in_sync == 1
    assert type(runtime.choose_strategy(["/cpu:0"])).__name__ != "MirroredStrategy"


def test_an_interrupted_cell_stops_the_command_it_ran(monkeypatch):
    """Jupyter's stop button interrupts the kernel, not the command: run_command must stop it."""
    started = []

    class Watched(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runtime.subprocess, "Popen", Watched)
    monkeypatch.setattr(runtime, "print", interrupt, raising=False)
    with pytest.raises(KeyboardInterrupt):
        runtime.run_command("doctor")
    [command] = started
    # stopped at once by the interrupt, not later by writing to a closed pipe (a silent step can last minutes)
    assert command.wait(timeout=60) == -signal.SIGTERM
