//! `--check-fragments` in the scheduler: lines that link into a page with a `#fragment` ride
//! on the page's one check, and come out with the page's result when its anchors hold the
//! fragment, or as a result of their own, `page#fragment` of kind fragment, when they do not.
//! Such results are found again by that URL, as any URL is, so a repeat merges with them.

use std::io;

use super::{ended, Dispatcher, Ending};
use crate::dedup::Verdict;
use crate::model::{Check, CheckError, ErrorKind, Outcome, Source};

impl Dispatcher<'_> {
    /// A line with a fragment into a page checked already.
    pub(super) fn fragment_of_done(
        &mut self,
        index: u64,
        key: u64,
        ending: Ending,
        display: String,
        source: Source,
        fragment: String,
    ) -> io::Result<()> {
        let lacks = ending.0 == Outcome::Up
            && self
                .anchors
                .get(&key)
                .is_some_and(|a| !a.holds(&fragment, true));
        if !lacks {
            return self.line_of_done(index, key, ending, display, source);
        }
        let mut page = Check::not_fetched(Outcome::Up, None);
        page.status = ending.1;
        self.missing_anchor(index, &display, &fragment, vec![source], page)
    }

    /// A line into a page checked already: a repeat of its result, or the page's own result
    /// when every line before linked to an anchor it lacks.
    pub(super) fn line_of_done(
        &mut self,
        index: u64,
        key: u64,
        ending: Ending,
        display: String,
        source: Source,
    ) -> io::Result<()> {
        if !self.silent.remove(&key) {
            return self.repeat(index, key, ending, display, source);
        }
        self.report(
            index,
            Some(key),
            display,
            vec![source],
            ended(ending),
            false,
        )
    }

    /// Lines whose fragment names no anchor of the page (`page`, as checked): one result,
    /// `page#fragment`, of kind fragment. The fetch it rode on is the page's: it has no
    /// attempts or latency of its own.
    pub(super) fn missing_anchor(
        &mut self,
        index: u64,
        display: &str,
        fragment: &str,
        sources: Vec<Source>,
        page: Check,
    ) -> io::Result<()> {
        let url = format!("{display}#{fragment}");
        let mut check = Check::not_fetched(Outcome::Error, None);
        check.status = page.status;
        check.error = Some(CheckError::new(
            ErrorKind::Fragment,
            format!("the page has no anchor #{fragment}"),
        ));
        let (key, duplicate) = match self.dedup.classify(&url, index) {
            Verdict::New { key } => {
                self.dedup.complete(key, &check);
                (Some(key), false)
            }
            Verdict::Done { key, .. } => (Some(key), true),
            // Never: such a result completes the moment it is made.
            Verdict::InFlight { .. } => (None, false),
        };
        self.report(index, key, url, sources, check, duplicate)
    }

    /// Sorts the lines that linked into a page with a fragment: those whose anchor the page
    /// has join `sources`; the others come back by fragment (name -> lines). The page's
    /// anchors are kept for lines that link into it later.
    pub(super) fn split_fragments(
        &mut self,
        check: &mut Check,
        key: u64,
        fragments: Vec<(Source, String)>,
        sources: &mut Vec<Source>,
    ) -> Vec<(String, Vec<Source>)> {
        let anchors = check.anchors.take();
        if let Some(anchors) = &anchors {
            self.anchors.insert(key, anchors.clone());
        }
        let mut missing: Vec<(String, Vec<Source>)> = Vec::new();
        for (source, fragment) in fragments {
            let lacks = check.outcome == Outcome::Up
                && anchors.as_ref().is_some_and(|a| !a.holds(&fragment, true));
            if !lacks {
                sources.push(source);
                continue;
            }
            match missing.iter_mut().find(|(name, _)| *name == fragment) {
                Some((_, lines)) => lines.push(source),
                None => missing.push((fragment, vec![source])),
            }
        }
        missing
    }
}
