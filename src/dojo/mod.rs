//! DefectDojo API client.
