// Test-only launcher over govmomi's vCenter simulator, built offline from Debian's
// golang-github-vmware-govmomi-dev (see build.sh). Never run `go mod tidy` here: the Debian
// govmomi go.mod lists modules the simulator does not import, and GOPROXY=off cannot fetch them.
module evckit.invalid/vcsim

go 1.19

require (
	github.com/google/uuid v0.0.0
	github.com/vmware/govmomi v0.0.0
)

replace (
	github.com/google/uuid => /usr/share/gocode/src/github.com/google/uuid
	github.com/vmware/govmomi => /usr/share/gocode/src/github.com/vmware/govmomi
)
