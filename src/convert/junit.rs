//! JUnit XML for test-report widgets (GitLab, Jenkins), from the read-back
//! findings.
