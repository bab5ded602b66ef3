//! The dojo-hook binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    dojo_hook::logging::init();
    watch_signals();
    ExitCode::from(dojo_hook::app::main_with_env())
}

/// Blocks SIGTERM, SIGINT and SIGHUP in every thread (before any other
/// thread exists, so all inherit the mask) and takes them on a watcher
/// thread, which may print, send requests and exit, as no signal handler
/// may ([`dojo_hook::signals`]). The library forbids `unsafe`; these few
/// lines of libc (which std links anyway) are the binary's. Linux only: the
/// numbers are those of x86_64 and aarch64.
#[cfg(target_os = "linux")]
fn watch_signals() {
    /// glibc's and musl's `sigset_t`: 1024 bits.
    #[repr(C)]
    struct SigSet([u64; 16]);
    unsafe extern "C" {
        fn sigemptyset(set: *mut SigSet) -> i32;
        fn sigaddset(set: *mut SigSet, signal: i32) -> i32;
        fn pthread_sigmask(how: i32, set: *const SigSet, old: *mut SigSet) -> i32;
        fn sigwait(set: *const SigSet, signal: *mut i32) -> i32;
    }
    const SIG_BLOCK: i32 = 0;
    const SIGNALS: [i32; 3] = [1, 2, 15]; // SIGHUP, SIGINT, SIGTERM
    let mut set = SigSet([0; 16]);
    // SAFETY: `set` is a valid, writable sigset_t; the calls only fill it
    // and change this thread's mask.
    let blocked = unsafe {
        sigemptyset(&mut set) == 0
            && SIGNALS.iter().all(|s| sigaddset(&mut set, *s) == 0)
            && pthread_sigmask(SIG_BLOCK, &set, std::ptr::null_mut()) == 0
    };
    if !blocked {
        return;
    }
    std::thread::spawn(move || {
        loop {
            let mut signal = 0;
            // SAFETY: `set` lives in this thread; `signal` is writable.
            if unsafe { sigwait(&set, &mut signal) } == 0 {
                dojo_hook::signals::stopped(signal);
            }
        }
    });
}

#[cfg(not(target_os = "linux"))]
fn watch_signals() {}
