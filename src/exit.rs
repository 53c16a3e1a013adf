//! Exit codes are a type: one enum decides 0 / 1 / 2 / 3 / 130 / 143, and how they combine.

/// What the process tells its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every checked URL is up.
    Success,
    /// At least one URL is down, error or invalid.
    Failures,
    /// The command could not run: bad flags, unreadable input.
    Usage,
    /// No `--canary` was up: the network is down, so nothing of the list was checked and the
    /// run says nothing about it.
    Inconclusive,
    /// Stopped by Ctrl-C (SIGINT).
    Interrupted,
    /// Stopped by SIGTERM.
    Terminated,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failures => 1,
            ExitCode::Usage => 2,
            ExitCode::Inconclusive => 3,
            ExitCode::Interrupted => 130,
            ExitCode::Terminated => 143,
        }
    }

    /// The code of two runs (the halves of `--compare`) or of a run and an event: being
    /// stopped outranks not being able to run, which outranks a run that could not conclude
    /// (no canary up: no verdict at all), which outranks failures, which outrank success.
    pub fn combine(self, other: ExitCode) -> ExitCode {
        fn rank(c: ExitCode) -> u8 {
            match c {
                ExitCode::Success => 0,
                ExitCode::Failures => 1,
                ExitCode::Inconclusive => 2,
                ExitCode::Usage => 3,
                ExitCode::Interrupted => 4,
                ExitCode::Terminated => 5,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c.code() as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::ExitCode::*;

    #[test]
    fn codes() {
        assert_eq!(
            [
                Success,
                Failures,
                Usage,
                Inconclusive,
                Interrupted,
                Terminated
            ]
            .map(|c| c.code()),
            [0, 1, 2, 3, 130, 143]
        );
    }

    #[test]
    fn combining() {
        assert_eq!(Success.combine(Success), Success);
        assert_eq!(Success.combine(Failures), Failures);
        assert_eq!(Failures.combine(Success), Failures);
        assert_eq!(Failures.combine(Interrupted), Interrupted);
        assert_eq!(Interrupted.combine(Failures), Interrupted);
        assert_eq!(Usage.combine(Failures), Usage);
        assert_eq!(Interrupted.combine(Terminated), Terminated);
        assert_eq!(Failures.combine(Inconclusive), Inconclusive);
        assert_eq!(Inconclusive.combine(Failures), Inconclusive);
        assert_eq!(Inconclusive.combine(Usage), Usage);
        assert_eq!(Inconclusive.combine(Interrupted), Interrupted);
    }
}
