package clienttest

import (
	"reflect"
	"testing"
)

// TestPgxMultidimensionalArrays: pgx sends and reads arrays in binary;
// arrays of two dimensions and empty arrays must round-trip through a
// parameter, storage and a result unchanged, and read back as PostgreSQL
// prints them in text.
func TestPgxMultidimensionalArrays(t *testing.T) {
	c := startCluster(t, 1)
	conn := connect(t, c.leader())
	if _, err := conn.Exec(ctx(t), "CREATE TABLE grids (id int PRIMARY KEY, g int[], s text[])"); err != nil {
		t.Fatal(err)
	}
	grid := [][]int32{{1, 2}, {3, 4}}
	words := [][]string{{"a", "b c"}, {`q"`, ""}}
	if _, err := conn.Exec(ctx(t), "INSERT INTO grids VALUES (1, $1, $2), (2, $3, $4)", grid, words,
		[]int32{}, []string{}); err != nil {
		t.Fatal(err)
	}
	var g [][]int32
	var s [][]string
	var text string
	if err := conn.QueryRow(ctx(t), "SELECT g, s, g::text FROM grids WHERE id = 1").Scan(&g, &s, &text); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, grid) || !reflect.DeepEqual(s, words) || text != "{{1,2},{3,4}}" {
		t.Fatalf("read back %v %q %q; want %v %q {{1,2},{3,4}}", g, s, text, grid, words)
	}
	var empty []int32
	var dims *string
	if err := conn.QueryRow(ctx(t), "SELECT g, array_dims(g) FROM grids WHERE id = 2").Scan(&empty, &dims); err != nil ||
		len(empty) != 0 || dims != nil {
		t.Fatalf("empty array read back as %v, dims %v, %v", empty, dims, err)
	}
	var slice [][]int32
	if err := conn.QueryRow(ctx(t), "SELECT $1::int[][] || ARRAY[[5, 6]]", grid).Scan(&slice); err != nil ||
		!reflect.DeepEqual(slice, [][]int32{{1, 2}, {3, 4}, {5, 6}}) {
		t.Fatalf("2-D parameter || ARRAY[[5, 6]] = %v, %v", slice, err)
	}
}
