//! HTTP API route matching: `METHOD /path/{param}/{proxy+}`, the most specific route wins.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    /// `GET /products/{id}`, as API Gateway reports it in `routeKey`.
    pub key: String,
    pub function: String,
    pub public: bool,
    method: String,
    segments: Vec<Segment>,
}

impl Route {
    pub fn new(method: &str, path: &str, function: &str, public: bool) -> Self {
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_owned()),
                        None => Segment::Param(name.to_owned()),
                    },
                    None => Segment::Literal(segment.to_owned()),
                },
            )
            .collect();
        Self {
            key: format!("{method} {path}"),
            function: function.to_owned(),
            public,
            method: method.to_owned(),
            segments,
        }
    }

    fn matches(&self, method: &str, parts: &[&str]) -> Option<HashMap<String, String>> {
        if self.method != "ANY" && self.method != method {
            return None;
        }
        let mut params = HashMap::new();
        for (index, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Greedy(name) => {
                    if index >= parts.len() {
                        return None;
                    }
                    params.insert(name.clone(), parts[index..].join("/"));
                    return Some(params);
                }
                Segment::Literal(literal) => {
                    if parts.get(index) != Some(&literal.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    params.insert(name.clone(), (*parts.get(index)?).to_owned());
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// Higher is more specific: literal segments first, then parameters; a method beats ANY.
    fn specificity(&self) -> (usize, usize, bool) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let params = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Param(_)))
            .count();
        (literals, params, self.method != "ANY")
    }
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    pub fn new(mut routes: Vec<Route>) -> Self {
        routes.sort_by_key(|route| std::cmp::Reverse(route.specificity()));
        Self { routes }
    }

    pub fn find(&self, method: &str, path: &str) -> Option<(&Route, HashMap<String, String>)> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.routes
            .iter()
            .find_map(|route| route.matches(method, &parts).map(|params| (route, params)))
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable::new(vec![
            Route::new("GET", "/products", "Catalog", true),
            Route::new("GET", "/products/{id}", "Catalog", true),
            Route::new("POST", "/products", "Catalog", false),
            Route::new("GET", "/products/featured", "Featured", true),
            Route::new("ANY", "/files/{path+}", "Files", false),
        ])
    }

    #[test]
    fn a_literal_route_beats_a_parameter_route() {
        let table = table();
        let (route, params) = table.find("GET", "/products/featured").unwrap();
        assert_eq!(route.function, "Featured");
        assert!(params.is_empty());
        let (route, params) = table.find("GET", "/products/p-1").unwrap();
        assert_eq!(route.key, "GET /products/{id}");
        assert_eq!(params["id"], "p-1");
    }

    #[test]
    fn the_method_must_match_unless_the_route_takes_any() {
        let table = table();
        assert!(!table.find("POST", "/products").unwrap().0.public);
        assert!(table.find("DELETE", "/products").is_none());
        let (route, params) = table.find("PUT", "/files/a/b/c.txt").unwrap();
        assert_eq!(route.function, "Files");
        assert_eq!(params["path"], "a/b/c.txt");
    }

    #[test]
    fn extra_or_missing_segments_do_not_match() {
        let table = table();
        assert!(table.find("GET", "/products/p-1/extra").is_none());
        assert!(table.find("GET", "/").is_none());
        assert!(table.find("GET", "/files").is_none());
    }
}
