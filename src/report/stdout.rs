//! stdout for results: buffered, and quiet when its reader goes away.

use std::io::{self, Write};

use tokio_util::sync::CancellationToken;

/// stdout, whose reader may go away (`urlcheck big.txt | head`): a broken pipe stops the run
/// (report files are still written, marked interrupted) and later output is dropped quietly.
pub(crate) struct Stdout {
    inner: io::BufWriter<io::Stdout>,
    closed: bool,
    cancel: CancellationToken,
}

impl Stdout {
    pub(crate) fn new(cancel: CancellationToken) -> Stdout {
        Stdout {
            inner: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
            closed: false,
            cancel,
        }
    }

    fn guard<T>(&mut self, done: T, result: io::Result<T>) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                self.cancel.cancel();
                Ok(done)
            }
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.guard(buf.len(), result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.guard((), result)
    }
}
