//! JSON shapes of the fake DefectDojo, per flavour, copied field for field from the
//! recorded responses (3.2.0 in `fixtures/dojo/recorded/v3/`, 2.58.4 in `fixtures/dojo/recorded/v2/`). Fields the fake does not model get the value the
//! recordings show for a plain object (null, false, empty list).
//!
//! Also the error bodies: DefectDojo's exception handler adds a `message` (the Python
//! `repr` of DRF's errors) and a `pro` advert list to 400s (`fixtures/dojo/recorded/v3/10-*`,
//! `fixtures/dojo/recorded/v3/24-*`, `fixtures/dojo/recorded/v3/64-*`).

use serde_json::{Map, Value, json};

use super::Flavour;
use super::state::{
    CicdInfrastructure, Endpoint, Engagement, Finding, Location, LocationFinding, LocationProduct,
    Product, ProductType, State, Test, TestImport, TestType, ToolConfiguration, ToolType,
};
use super::util::{py_repr, py_repr_list};

pub const PRO: &str =
    "Pro comes with support. Try today for free or email us at hello@defectdojo.com";

// ---------------------------------------------------------------- errors

/// `{"detail": msg}` (403, 404, 415, …).
pub fn detail(msg: &str) -> Value {
    json!({ "detail": msg })
}

/// A DRF field-error body: `{field: [msgs], "message": "{'field': [ErrorDetail(...)]}", "pro": [...]}`.
/// Each error is `(field, message, code)`; several errors of one field are grouped.
pub fn field_errors(errors: &[(&str, String, &str)]) -> Value {
    let mut fields: Vec<(&str, Vec<(&String, &str)>)> = Vec::new();
    for (field, msg, code) in errors {
        match fields.iter_mut().find(|(f, _)| f == field) {
            Some((_, list)) => list.push((msg, code)),
            None => fields.push((field, vec![(msg, code)])),
        }
    }
    let mut body = Map::new();
    let mut repr = Vec::new();
    for (field, list) in &fields {
        body.insert(
            field.to_string(),
            json!(list.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>()),
        );
        let details: Vec<String> = list
            .iter()
            .map(|(m, code)| format!("ErrorDetail(string={}, code={})", py_repr(m), py_repr(code)))
            .collect();
        repr.push(format!("{}: [{}]", py_repr(field), details.join(", ")));
    }
    body.insert("message".into(), json!(format!("{{{}}}", repr.join(", "))));
    body.insert("pro".into(), json!([PRO]));
    Value::Object(body)
}

/// A 400 from an exception the import view turned into a message only (`fixtures/dojo/recorded/v3/64-*`):
/// `{"message": "[\"<text>\"]", "pro": [...]}`.
pub fn message_only(text: &str) -> Value {
    json!({ "message": py_repr_list(&[text.to_string()]), "pro": [PRO] })
}

/// The 500 body of a parser failure (`fixtures/dojo/recorded/v3/31-*`, `fixtures/dojo/recorded/v3/145-*`).
pub fn internal_error() -> Value {
    json!({ "message": "Internal server error, check logs for details", "pro": [PRO] })
}

// ---------------------------------------------------------------- users

pub struct User {
    pub id: u64,
    pub username: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: &'static str,
    pub staff: bool,
}

pub const ADMIN: User = User {
    id: 1,
    username: "admin",
    first_name: "Admin",
    last_name: "User",
    email: "admin@defectdojo.local",
    staff: true,
};

pub const LOWPRIV: User = User {
    id: 2,
    username: "lowpriv",
    first_name: "Low",
    last_name: "Priv",
    email: "lowpriv@example.test",
    staff: false,
};

pub fn user(flavour: Flavour, u: &User) -> Value {
    let mut v = json!({
        "id": u.id, "username": u.username, "first_name": u.first_name, "last_name": u.last_name,
        "email": u.email, "date_joined": "2026-11-27T20:59:23.095088Z", "last_login": null,
        "is_active": true, "is_superuser": u.staff, "token_last_reset": null,
        "password_last_reset": null, "configuration_permissions": [],
    });
    if flavour == Flavour::V3 {
        v["is_staff"] = json!(u.staff);
    }
    v
}

/// `/api/v2/user_profile/` (`fixtures/dojo/recorded/v3/06-*`, `fixtures/dojo/recorded/v3/77-*`; 2.x adds the
/// role memberships of `fixtures/dojo/recorded/v2/19-*`).
pub fn user_profile(flavour: Flavour, u: &User) -> Value {
    let mut v = json!({ "user": user(flavour, u), "user_contact_info": null });
    if flavour == Flavour::V2 {
        v["global_role"] = Value::Null;
        v["dojo_group_member"] = json!([]);
        v["product_type_member"] = json!([]);
        v["product_member"] = json!([]);
    }
    v
}

// ---------------------------------------------------------------- context objects

pub fn product_type(flavour: Flavour, p: &ProductType) -> Value {
    let mut v = json!({
        "id": p.id, "created": p.created, "updated": p.created, "name": p.name,
        "description": p.description, "critical_product": p.critical_product, "key_product": p.key_product,
    });
    match flavour {
        Flavour::V3 => v["authorized_users"] = json!(p.authorized_users),
        Flavour::V2 => {
            v["members"] = json!([]);
            v["authorization_groups"] = json!([]);
        }
    }
    v
}

pub fn product(flavour: Flavour, p: &Product, state: &State) -> Value {
    let findings: Vec<u64> = state
        .findings
        .iter()
        .filter(|f| state.product_of_finding(f) == Some(p.id))
        .map(|f| f.id)
        .collect();
    let mut v = json!({
        "id": p.id, "findings_count": findings.len(), "findings_list": findings,
        "business_criticality": null, "platform": null, "lifecycle": null, "origin": null,
        "product_meta": [], "created": p.created, "name": p.name, "description": p.description,
        "prod_numeric_grade": null, "user_records": null, "revenue": null, "external_audience": false,
        "internet_accessible": false, "enable_product_tag_inheritance": false,
        "enable_simple_risk_acceptance": false, "enable_full_risk_acceptance": true,
        "disable_sla_breach_notifications": false, "product_manager": null, "technical_contact": null,
        "team_manager": null, "prod_type": p.prod_type, "sla_configuration": 1, "regulations": [],
        "tags": p.tags,
    });
    match flavour {
        Flavour::V3 => v["authorized_users"] = json!([]),
        Flavour::V2 => {
            v["members"] = json!([]);
            v["authorization_groups"] = json!([]);
        }
    }
    v
}

pub fn engagement(flavour: Flavour, e: &Engagement) -> Value {
    let mut v = json!({
        "id": e.id, "created": e.created, "updated": e.updated, "name": e.name,
        "description": e.description, "version": e.version, "first_contacted": null,
        "target_start": e.target_start, "target_end": e.target_end, "reason": null, "active": e.active,
        "tracker": null, "test_strategy": null, "threat_model": e.threat_model, "api_test": e.api_test,
        "pen_test": e.pen_test, "check_list": e.check_list, "status": e.status, "progress": "threat_model",
        "tmodel_path": "none", "done_testing": false, "engagement_type": e.engagement_type,
        "build_id": e.build_id, "commit_hash": e.commit_hash, "branch_tag": e.branch_tag,
        "source_code_management_uri": e.source_code_management_uri,
        "deduplication_on_engagement": e.deduplication_on_engagement, "lead": e.lead, "requester": null,
        "preset": null, "report_type": null, "product": e.product, "notes": [], "files": [],
        "risk_acceptance": [], "tags": e.tags,
    });
    match flavour {
        Flavour::V3 => {
            v["cicd_scm_server"] = json!(e.cicd_scm_server);
            v["cicd_build_server"] = json!(e.cicd_build_server);
            v["cicd_orchestration_engine"] = json!(e.cicd_orchestration_engine);
        }
        Flavour::V2 => {
            v["build_server"] = json!(e.build_server);
            v["source_code_management_server"] = json!(e.source_code_management_server);
            v["orchestration_engine"] = json!(e.orchestration_engine);
        }
    }
    v
}

/// A test as GET and list render it (`fixtures/dojo/recorded/v3/32-*`, `fixtures/dojo/recorded/v3/146-*`;
/// `fixtures/dojo/recorded/v2/83-*`). `prefetch` is only part
/// of the single-object GET.
pub fn test(flavour: Flavour, t: &Test, state: &State) -> Value {
    let mut v = json!({
        "id": t.id, "test_type_name": state.test_type_name(t.test_type), "scan_type": t.scan_type,
        "title": t.title, "description": t.description, "target_start": t.target_start,
        "target_end": t.target_end, "percent_complete": t.percent_complete, "updated": t.updated,
        "created": t.created, "version": t.version, "build_id": t.build_id, "commit_hash": t.commit_hash,
        "branch_tag": t.branch_tag, "engagement": t.engagement, "lead": t.lead, "test_type": t.test_type,
        "environment": t.environment, "api_scan_configuration": null, "notes": [], "files": [],
        "tags": t.tags, "finding_groups": [],
    });
    if flavour == Flavour::V3 {
        v["deduplication_algorithm"] = json!("legacy");
        v["hash_code_fields"] = Value::Null;
    }
    v
}

/// The body of `POST /api/v2/tests/` (`fixtures/dojo/recorded/v3/118-*`, `fixtures/dojo/recorded/v2/59-*`): the
/// create serializer.
pub fn test_created(t: &Test) -> Value {
    json!({
        "id": t.id, "engagement": t.engagement, "notes": [], "scan_type": t.scan_type, "title": t.title,
        "description": t.description, "target_start": t.target_start, "target_end": t.target_end,
        "percent_complete": t.percent_complete, "updated": t.updated, "created": t.created,
        "version": t.version, "build_id": t.build_id, "commit_hash": t.commit_hash,
        "branch_tag": t.branch_tag, "lead": t.lead, "test_type": t.test_type, "environment": t.environment,
        "api_scan_configuration": null, "files": [], "tags": t.tags,
    })
}

pub fn numerical_severity(severity: &str) -> &'static str {
    match severity {
        "Critical" => "S0",
        "High" => "S1",
        "Medium" => "S2",
        "Low" => "S3",
        _ => "S4",
    }
}

/// DefectDojo's `Finding.status()` text.
pub fn display_status(f: &Finding) -> String {
    let mut parts = Vec::new();
    if f.under_review {
        parts.push("Under Review");
    }
    parts.push(if f.active { "Active" } else { "Inactive" });
    if f.verified {
        parts.push("Verified");
    }
    if f.is_mitigated || f.mitigated.is_some() {
        parts.push("Mitigated");
    }
    if f.false_p {
        parts.push("False Positive");
    }
    if f.out_of_scope {
        parts.push("Out Of Scope");
    }
    if f.duplicate {
        parts.push("Duplicate");
    }
    if f.risk_accepted {
        parts.push("Risk Accepted");
    }
    parts.join(", ")
}

/// A finding (`fixtures/dojo/recorded/v3/102-*`; `fixtures/dojo/recorded/v2/47-*`: the same fields without `cwes`).
pub fn finding(flavour: Flavour, f: &Finding) -> Value {
    let mut v = json!({
        "id": f.id, "mitigated": f.mitigated, "mitigated_by": f.mitigated.as_ref().map(|_| f.reporter),
        "request_response": {"req_resp": []}, "accepted_risks": [], "push_to_jira": false,
        "found_by": [f.found_by], "age": 0, "sla_days_remaining": null, "finding_meta": [],
        "related_fields": null, "jira_creation": null, "jira_change": null,
        "display_status": display_status(f), "finding_groups": [],
        "vulnerability_ids": f.vulnerability_ids.iter().map(|v| json!({"vulnerability_id": v})).collect::<Vec<_>>(),
        "reporter": f.reporter, "endpoints": f.endpoints, "created": f.created, "updated": f.updated,
        "title": f.title, "date": f.date, "sla_start_date": null, "sla_expiration_date": null, "cwe": f.cwe,
        "epss_score": null, "epss_percentile": null, "known_exploited": false, "ransomware_used": false,
        "kev_date": null, "cvssv3": null, "cvssv3_score": null, "cvssv4": null, "cvssv4_score": null,
    });
    let rest = json!({
        "url": null, "severity": f.severity, "description": f.description, "mitigation": f.mitigation,
        "fix_available": null, "fix_version": null, "impact": f.impact, "steps_to_reproduce": null,
        "severity_justification": null, "references": f.references, "active": f.active,
        "verified": f.verified, "false_p": f.false_p, "duplicate": f.duplicate,
        "out_of_scope": f.out_of_scope, "risk_accepted": f.risk_accepted, "under_review": f.under_review,
        "last_status_update": f.updated, "under_defect_review": false, "is_mitigated": f.is_mitigated,
        "thread_id": 0, "numerical_severity": numerical_severity(&f.severity), "last_reviewed": f.created,
    });
    merge(&mut v, rest);
    let rest = json!({
        "param": null, "payload": null, "hash_code": f.hash_code, "line": f.line, "file_path": f.file_path,
        "component_name": f.component_name, "component_version": f.component_version,
        "static_finding": f.static_finding, "dynamic_finding": f.dynamic_finding,
        "scanner_confidence": null, "unique_id_from_tool": f.unique_id_from_tool,
        "vuln_id_from_tool": f.vuln_id_from_tool, "sast_source_object": null, "sast_sink_object": null,
        "sast_source_line": null, "sast_source_file_path": null, "nb_occurences": f.nb_occurences,
        "publish_date": null, "service": f.service, "planned_remediation_date": null,
        "planned_remediation_version": null, "effort_for_fixing": null, "test": f.test,
        "duplicate_finding": f.duplicate_finding, "review_requested_by": null,
        "defect_review_requested_by": null, "last_reviewed_by": f.reporter, "sonarqube_issue": null,
        "reviewers": [], "notes": [], "files": [], "tags": f.tags,
    });
    merge(&mut v, rest);
    if flavour == Flavour::V3 {
        v["cwes"] = json!(f.cwes.iter().map(|c| json!({"cwe": c})).collect::<Vec<_>>());
    }
    let obj = v.as_object_mut().expect("finding is an object");
    for (k, val) in &f.extra {
        if obj.contains_key(k) {
            obj.insert(k.clone(), val.clone());
        }
    }
    v
}

/// Moves the keys of `extra` into `target` (both objects); keeps big `json!` literals
/// under the macro's recursion limit.
fn merge(target: &mut Value, extra: Value) {
    if let (Some(t), Value::Object(e)) = (target.as_object_mut(), extra) {
        t.extend(e);
    }
}

pub fn tool_type(t: &ToolType) -> Value {
    json!({ "id": t.id, "name": t.name, "description": t.description })
}

pub fn tool_configuration(t: &ToolConfiguration) -> Value {
    json!({
        "id": t.id, "name": t.name, "description": t.description, "url": t.url,
        "authentication_type": t.authentication_type, "extras": null, "username": t.username,
        "auth_title": null, "tool_type": t.tool_type,
    })
}

pub fn cicd_infrastructure(c: &CicdInfrastructure) -> Value {
    json!({
        "id": c.id, "name": c.name, "description": c.description, "url": c.url,
        "infrastructure_type": c.infrastructure_type,
    })
}

pub fn test_type(t: &TestType) -> Value {
    json!({ "id": t.id, "name": t.name, "static_tool": t.static_tool, "dynamic_tool": t.dynamic_tool, "active": t.active })
}

// ---------------------------------------------------------------- endpoints and locations

/// 2.x endpoint object (`fixtures/dojo/recorded/v2/47-*`, its prefetch): host/port fields plus the ids of the
/// findings using it (see [`State::findings_by_endpoint`]).
pub fn endpoint_v2(e: &Endpoint, findings: &[u64]) -> Value {
    json!({
        "id": e.id, "tags": [], "protocol": e.protocol, "userinfo": e.userinfo, "host": e.host,
        "port": e.port, "path": e.path, "query": e.query, "fragment": e.fragment, "product": e.product,
        "endpoint_params": [], "findings": findings,
    })
}

pub fn location(l: &Location) -> Value {
    json!({
        "id": l.id, "tags": [], "inherited_tags": [], "created": l.created, "updated": l.created,
        "location_type": "url", "location_value": l.location_value,
    })
}

/// 3.x location-finding reference (`fixtures/dojo/recorded/v3/102-*` prefetch, `fixtures/dojo/recorded/v3/103-*` results).
pub fn location_finding(r: &LocationFinding) -> Value {
    json!({
        "id": r.id, "created": r.created, "updated": r.created, "relationship": "",
        "relationship_data": {}, "audit_time": null, "status": "Active", "location": r.location,
        "finding": r.finding, "auditor": null,
    })
}

/// 3.x `/api/v2/endpoints/<id>/` compatibility view of a location-product reference
/// (`fixtures/dojo/recorded/v3/106-*`).
pub fn endpoint_compat_v3(r: &LocationProduct, state: &State) -> Value {
    let value = state
        .locations
        .iter()
        .find(|l| l.id == r.location)
        .map(|l| l.location_value.clone())
        .unwrap_or_default();
    let ep = super::state::parse_endpoint(&value);
    let active = state
        .location_findings
        .iter()
        .filter(|lf| lf.location == r.location)
        .filter(|lf| state.finding(lf.finding).is_some_and(|f| f.active))
        .count();
    json!({
        "id": r.id, "protocol": ep.protocol.unwrap_or_default(), "userinfo": ep.userinfo.unwrap_or_default(),
        "host": ep.host.unwrap_or_default(), "port": ep.port, "path": ep.path.unwrap_or_default(),
        "query": ep.query.unwrap_or_default(), "fragment": ep.fragment.unwrap_or_default(), "tags": [],
        "location_id": r.location, "active_finding_count": active, "created": r.created,
        "updated": r.created, "relationship": "", "relationship_data": {}, "status": "Active",
        "product": r.product, "prefetch": {},
    })
}

/// A `/api/v2/test_imports/` row (`fixtures/dojo/recorded/v3/156-*`).
pub fn test_import(t: &TestImport) -> Value {
    let mut affected: Vec<u64> = t.actions.iter().map(|a| a.finding).collect();
    affected.sort_unstable();
    affected.dedup();
    json!({
        "id": t.id,
        "test_import_finding_action_set": t.actions.iter().map(|a| json!({
            "id": a.id, "created": a.created, "modified": a.created, "action": a.action.to_string(),
            "test_import": t.id, "finding": a.finding,
        })).collect::<Vec<_>>(),
        "created": t.created, "modified": t.created, "import_settings": t.import_settings,
        "type": t.kind, "version": t.version, "build_id": t.build_id, "commit_hash": t.commit_hash,
        "branch_tag": t.branch_tag, "test": t.test, "findings_affected": affected,
    })
}

/// The 404 page Django answers for unknown paths (`fixtures/dojo/README.md`: recorded, completed by hand).
pub const NOT_FOUND_HTML: &str = include_str!("../../../fixtures/dojo/not-found.html");

const SCHEMA_V3: &str = include_str!("../../../fixtures/dojo/openapi-schema-v3-trimmed.json");

/// `GET /api/v2/oa3/schema/`: the trimmed 3.2.0 schema; for 2.x without the fields 2.x
/// does not know (`deduplication_execution_mode`).
pub fn schema(flavour: Flavour) -> Value {
    let mut v: Value =
        serde_json::from_str(SCHEMA_V3).expect("fixtures/dojo/openapi-schema-v3-trimmed.json");
    if flavour == Flavour::V2 {
        if let Some(schemas) = v
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            for (_, s) in schemas.iter_mut() {
                if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
                    props.remove("deduplication_execution_mode");
                    props.remove("deduplication_complete");
                }
            }
        }
        v["info"]["version"] = json!("2.58.4");
    }
    v
}
