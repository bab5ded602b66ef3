//! Small pure helpers that several layers share and that know nothing of
//! DefectDojo, secureCodeBox or the run: how text is shown, calendar time,
//! name-based UUIDs, random bits and "did you mean".

pub(crate) mod random;
pub(crate) mod suggest;
pub(crate) mod text;
pub(crate) mod time;
pub(crate) mod uuid;
