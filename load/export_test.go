package load

// GeneratedSQL is the SQL generated from ticketColumns, for the golden and
// schema tests (package load_test, which can use pgtest).
var GeneratedSQL = []struct{ Name, SQL string }{
	{"createStageSQL", createStageSQL},
	{"mergeSQL", mergeSQL},
	{"mergeNoDupSQL", mergeNoDupSQL},
	{"markVanishedSQL", markVanishedSQL},
}
