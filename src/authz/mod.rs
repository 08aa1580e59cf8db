//! Authorization: path normalization ([`path`]), the route matcher ([`routes`]), requirements,
//! org scoping and decisions ([`decision`]), and which rule applies ([`effective`]).

pub mod decision;
pub mod effective;
pub mod path;
pub mod routes;
