"""SIGTERM and SIGINT stop a worker: the signal raises Stopped in the main thread, again and again until the stop
is handled. One raise is not enough: Python drops an exception raised in code that C code called and then cleared
(a __del__, an attribute or hash lookup inside TensorFlow's tracing), and the trial would run on as if unsignalled."""
import os
import signal
import threading

RETRY_S = 1.0  # how soon a dropped stop is raised again
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived. A BaseException, as KeyboardInterrupt is: TensorFlow wraps an Exception raised
    while it traces (autograph's StagingError), so a signal during a trial's first steps would read as an error."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """The signal handler: the first signal's Stopped, raised until stop_handled(); after that signals are
    ignored, so a second one cannot interrupt the recording of the first one's trial."""

    def __init__(self):
        self.first = None
        self.handled = threading.Event()

    def __call__(self, signum, frame):
        if self.handled.is_set():
            return
        if self.first is None:
            self.first = signum
            threading.Thread(target=self.raise_again, daemon=True).start()
        raise Stopped(self.first)

    def raise_again(self):
        while not self.handled.wait(RETRY_S):
            os.kill(os.getpid(), self.first)


STOP_SIGNALS = StopSignals()


def catch_stops():
    for signum in SIGNALS:
        signal.signal(signum, STOP_SIGNALS)


def stop_handled():
    """Called first where a Stopped is caught: the stop arrived, no need to raise it again."""
    STOP_SIGNALS.handled.set()
