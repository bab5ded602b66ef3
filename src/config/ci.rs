//! CI metadata, detected from the build system's own variables.
//!
//! GitHub Actions, GitLab CI and Jenkins each name the run, the commit, the
//! branch and the repository differently; this module reads them so a
//! pipeline needs no extra configuration. Explicit `DEFECTDOJO_*` settings
//! win (see [`crate::config`]). Pure: takes a variable getter.

/// What the CI system tells about the run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detected {
    /// `github`, `gitlab` or `jenkins`.
    pub provider: &'static str,
    /// The run or pipeline id (DefectDojo's `build_id`).
    pub build_id: Option<String>,
    /// The commit SHA (`commit_hash`).
    pub commit_hash: Option<String>,
    /// The branch or tag (`branch_tag`).
    pub branch_tag: Option<String>,
    /// The repository's URL (`source_code_management_uri`).
    pub repository_url: Option<String>,
    /// The repository's name, a default for the product name.
    pub repository_name: Option<String>,
}

/// Detects the CI system, if any.
pub fn detect(get: &dyn Fn(&str) -> Option<String>) -> Option<Detected> {
    let var = |name: &str| {
        get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if var("GITHUB_ACTIONS").is_some() || var("GITHUB_RUN_ID").is_some() {
        let repository = var("GITHUB_REPOSITORY");
        return Some(Detected {
            provider: "github",
            build_id: var("GITHUB_RUN_ID"),
            commit_hash: var("GITHUB_SHA"),
            branch_tag: var("GITHUB_REF_NAME"),
            repository_url: match (var("GITHUB_SERVER_URL"), &repository) {
                (Some(server), Some(repo)) => {
                    Some(format!("{}/{repo}", server.trim_end_matches('/')))
                }
                _ => None,
            },
            repository_name: repository.as_deref().map(last_segment),
        });
    }
    if var("GITLAB_CI").is_some() || var("CI_PIPELINE_ID").is_some() {
        return Some(Detected {
            provider: "gitlab",
            build_id: var("CI_PIPELINE_ID"),
            commit_hash: var("CI_COMMIT_SHA"),
            branch_tag: var("CI_COMMIT_REF_NAME"),
            repository_url: var("CI_PROJECT_URL"),
            repository_name: var("CI_PROJECT_NAME")
                .or_else(|| var("CI_PROJECT_PATH").as_deref().map(last_segment)),
        });
    }
    if var("JENKINS_URL").is_some() || var("JENKINS_HOME").is_some() {
        let url = var("GIT_URL");
        return Some(Detected {
            provider: "jenkins",
            build_id: var("BUILD_ID"),
            commit_hash: var("GIT_COMMIT"),
            // Jenkins names remote branches `origin/main`.
            branch_tag: var("GIT_BRANCH")
                .map(|b| b.strip_prefix("origin/").unwrap_or(&b).to_string()),
            repository_name: url
                .as_deref()
                .map(|u| last_segment(u.trim_end_matches(".git")))
                .or_else(|| var("JOB_NAME").as_deref().map(last_segment)),
            repository_url: url,
        });
    }
    None
}

fn last_segment(path: &str) -> String {
    path.trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or(path)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn detect_with(vars: &[(&str, &str)]) -> Option<Detected> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        detect(&|k| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn github_actions() {
        let d = detect_with(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
        ])
        .unwrap();
        assert_eq!(d.provider, "github");
        assert_eq!(d.build_id.as_deref(), Some("42"));
        assert_eq!(d.commit_hash.as_deref(), Some("abc123"));
        assert_eq!(d.branch_tag.as_deref(), Some("main"));
        assert_eq!(
            d.repository_url.as_deref(),
            Some("https://github.com/acme/shop")
        );
        assert_eq!(d.repository_name.as_deref(), Some("shop"));
    }

    #[test]
    fn gitlab_ci() {
        let d = detect_with(&[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_ID", "7"),
            ("CI_COMMIT_SHA", "def"),
            ("CI_COMMIT_REF_NAME", "feature/x"),
            ("CI_PROJECT_URL", "https://gitlab.example.com/g/app"),
            ("CI_PROJECT_NAME", "app"),
        ])
        .unwrap();
        assert_eq!(d.provider, "gitlab");
        assert_eq!(d.branch_tag.as_deref(), Some("feature/x"));
        assert_eq!(
            d.repository_url.as_deref(),
            Some("https://gitlab.example.com/g/app")
        );
    }

    #[test]
    fn jenkins() {
        let d = detect_with(&[
            ("JENKINS_URL", "https://ci.example.com/"),
            ("BUILD_ID", "99"),
            ("GIT_COMMIT", "fff"),
            ("GIT_BRANCH", "origin/release"),
            ("GIT_URL", "git@github.com:acme/api.git"),
        ])
        .unwrap();
        assert_eq!(d.provider, "jenkins");
        assert_eq!(d.branch_tag.as_deref(), Some("release"));
        assert_eq!(d.repository_name.as_deref(), Some("api"));
    }

    #[test]
    fn nothing_outside_ci() {
        assert_eq!(detect_with(&[("HOME", "/root")]), None);
    }
}
