//! Validating the PipelineTasks of a large Pipeline on every core.
//!
//! # Design
//!
//! A PipelineTask's own checks (its target, params, when-expressions, embedded taskSpec) read
//! the bundle and the Pipeline and write only findings, so tasks are independent: the list is
//! cut into one contiguous chunk per core, each chunk is checked with its own [`Ctx`], and the
//! chunks' findings are appended in order. Checks across tasks (the graph, names, result
//! wiring) stay sequential in the caller.
//!
//! # Invariants
//!
//! - The findings and their order are the same whatever the number of threads: the unit
//!   tests compare one thread against several.
//! - Small inputs never start a thread: below [`MIN_PER_THREAD`] items per chunk, starting
//!   one costs more than it saves.

use std::num::NonZeroUsize;
use std::thread;

use super::Ctx;

/// Fewest items worth a thread of their own.
pub(crate) const MIN_PER_THREAD: usize = 256;

/// How many threads to use for `len` items: one per core, none for small inputs.
fn threads_for(len: usize) -> usize {
    let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    cores.min(len / MIN_PER_THREAD).max(1)
}

/// `f` applied to every item, in item order, on up to one thread per core.
pub(crate) fn map_in_order<'a, T, R, F>(items: &'a [T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &'a T) -> R + Sync,
{
    map_chunks(items, threads_for(items.len()), f)
}

fn map_chunks<'a, T, R, F>(items: &'a [T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &'a T) -> R + Sync,
{
    if threads <= 1 {
        return items.iter().enumerate().map(|(i, t)| f(i, t)).collect();
    }
    let size = items.len().div_ceil(threads);
    let f = &f;
    thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(size)
            .enumerate()
            .map(|(c, chunk)| {
                s.spawn(move || {
                    let first = c * size;
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(i, t)| f(first + i, t))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Runs `check` on every item with a context of its own and appends the findings to `ctx` in
/// item order.
pub(crate) fn check_each<T, F>(ctx: &mut Ctx<'_>, items: &[T], check: F)
where
    T: Sync,
    F: Fn(&mut Ctx<'_>, &T) + Sync,
{
    check_chunks(ctx, items, threads_for(items.len()), check);
}

fn check_chunks<T, F>(ctx: &mut Ctx<'_>, items: &[T], threads: usize, check: F)
where
    T: Sync,
    F: Fn(&mut Ctx<'_>, &T) + Sync,
{
    if threads <= 1 {
        for item in items {
            check(ctx, item);
        }
        return;
    }
    let (bundle, flags) = (ctx.bundle, ctx.flags);
    let found = map_chunks(items, threads, |_, item| {
        let mut own = Ctx::new(bundle, flags);
        check(&mut own, item);
        own.out
    });
    ctx.out.extend(found.into_iter().flatten());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::load::Bundle;
    use crate::validate::Flags;

    #[test]
    fn chunks_keep_item_order() {
        let items: Vec<usize> = (0..1000).collect();
        for threads in [1, 2, 3, 7] {
            let got = map_chunks(&items, threads, |i, x| (i, x * 2));
            let want: Vec<(usize, usize)> = items.iter().map(|x| (*x, x * 2)).collect();
            assert_eq!(got, want, "{threads} threads");
        }
    }

    #[test]
    fn findings_do_not_depend_on_the_thread_count() {
        let bundle = Bundle::default();
        let flags = Flags::default();
        let items: Vec<usize> = (0..100).collect();
        let findings = |threads| {
            let mut ctx = Ctx::new(&bundle, &flags);
            check_chunks(&mut ctx, &items, threads, |ctx, i| {
                if i % 3 == 0 {
                    ctx.push(Diagnostic::warning("test/every-third", format!("item {i}")));
                }
            });
            ctx.out
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(findings(1).len(), 34);
        assert_eq!(findings(1), findings(4));
    }

    #[test]
    fn small_inputs_stay_on_one_thread() {
        assert_eq!(threads_for(MIN_PER_THREAD - 1), 1);
        assert_eq!(threads_for(0), 1);
    }
}
