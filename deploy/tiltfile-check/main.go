// Command tiltfile-check runs a Tiltfile in Starlark (the language Tilt runs it in, with Tilt's dialect
// options) against stubs of the Tilt builtins it uses, and prints the resources it defines as JSON. Tilt
// itself cannot be installed here, so this proves the Tiltfile parses, calls each builtin with arguments Tilt
// accepts, names no resource twice and depends on no resource it does not define.
//
//	go run . <Tiltfile> [-- --flag=value ...]
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
	"gopkg.in/yaml.v3"
)

// Resource is one local_resource call, as the tests read it.
type Resource struct {
	Name         string            `json:"name"`
	Cmd          string            `json:"cmd"`
	ServeCmd     string            `json:"serve_cmd,omitempty"`
	Env          map[string]string `json:"env"`
	ResourceDeps []string          `json:"resource_deps"`
	TriggerMode  string            `json:"trigger_mode"`
	AutoInit     bool              `json:"auto_init"`
	Labels       []string          `json:"labels"`
}

type checker struct {
	dir        string
	flags      map[string]string
	defined    map[string]bool
	resources  []Resource
	configDefs map[string]bool
}

func stringList(v starlark.Value, what string) ([]string, error) {
	out := []string{}
	if v == nil || v == starlark.None {
		return out, nil
	}
	iter, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s must be a list of strings, not %s", what, v.Type())
	}
	it := iter.Iterate()
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		s, ok := starlark.AsString(x)
		if !ok {
			return nil, fmt.Errorf("%s must hold strings, not %s", what, x.Type())
		}
		out = append(out, s)
	}
	return out, nil
}

func (c *checker) localResource(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var cmd, serveCmd, deps starlark.Value = starlark.String(""), starlark.String(""), nil
	var env *starlark.Dict
	var resourceDeps, labels starlark.Value
	triggerMode := starlark.Value(starlark.MakeInt(0))
	autoInit := true
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &name, "cmd?", &cmd, "deps?", &deps, "trigger_mode?", &triggerMode,
		"resource_deps?", &resourceDeps, "ignore?", new(starlark.Value), "auto_init?", &autoInit,
		"serve_cmd?", &serveCmd, "cmd_bat?", new(starlark.Value), "serve_cmd_bat?", new(starlark.Value),
		"allow_parallel?", new(bool), "links?", new(starlark.Value), "tags?", new(starlark.Value),
		"env?", &env, "serve_env?", new(*starlark.Dict), "readiness_probe?", new(starlark.Value),
		"dir?", new(string), "serve_dir?", new(string), "labels?", &labels); err != nil {
		return nil, err
	}
	if c.defined[name] {
		return nil, fmt.Errorf("local_resource %q is defined twice", name)
	}
	c.defined[name] = true
	r := Resource{Name: name, Env: map[string]string{}, AutoInit: autoInit, TriggerMode: "auto"}
	if s, ok := starlark.AsString(cmd); ok {
		r.Cmd = s
	}
	if s, ok := starlark.AsString(serveCmd); ok {
		r.ServeCmd = s
	}
	if triggerMode.String() == "1" {
		r.TriggerMode = "manual"
	}
	if env != nil {
		for _, item := range env.Items() {
			k, ok1 := starlark.AsString(item[0])
			v, ok2 := starlark.AsString(item[1])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("local_resource %q: env must map strings to strings", name)
			}
			r.Env[k] = v
		}
	}
	var err error
	if r.ResourceDeps, err = stringList(resourceDeps, "resource_deps"); err != nil {
		return nil, err
	}
	if r.Labels, err = stringList(labels, "labels"); err != nil {
		return nil, err
	}
	c.resources = append(c.resources, r)
	return starlark.None, nil
}

func toStarlark(v interface{}) (starlark.Value, error) {
	switch x := v.(type) {
	case nil:
		return starlark.None, nil
	case string:
		return starlark.String(x), nil
	case bool:
		return starlark.Bool(x), nil
	case int:
		return starlark.MakeInt(x), nil
	case float64:
		return starlark.Float(x), nil
	case []interface{}:
		items := make([]starlark.Value, 0, len(x))
		for _, e := range x {
			s, err := toStarlark(e)
			if err != nil {
				return nil, err
			}
			items = append(items, s)
		}
		return starlark.NewList(items), nil
	case map[string]interface{}:
		d := starlark.NewDict(len(x))
		for k, e := range x {
			s, err := toStarlark(e)
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(starlark.String(k), s); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("read_yaml: unsupported value %T", v)
}

func (c *checker) readYAML(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	var dflt starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "paths", &path, "default?", &dflt); err != nil {
		return nil, err
	}
	text, err := os.ReadFile(filepath.Join(c.dir, path))
	if err != nil {
		if dflt != nil {
			return dflt, nil
		}
		return nil, fmt.Errorf("read_yaml: %v", err)
	}
	var parsed interface{}
	if err := yaml.Unmarshal(text, &parsed); err != nil {
		return nil, fmt.Errorf("read_yaml %s: %v", path, err)
	}
	return toStarlark(parsed)
}

func (c *checker) defineStringList(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, usage string
	var positional bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "args?", &positional, "usage?", &usage); err != nil {
		return nil, err
	}
	c.configDefs[name] = true
	return starlark.None, nil
}

func (c *checker) parse(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	d := starlark.NewDict(len(c.flags))
	for name, value := range c.flags {
		if !c.configDefs[name] {
			return nil, fmt.Errorf("config.parse: flag --%s is not defined by the Tiltfile", name)
		}
		items := []starlark.Value{}
		for _, v := range strings.Split(value, ",") {
			if v != "" {
				items = append(items, starlark.String(v))
			}
		}
		if err := d.SetKey(starlark.String(name), starlark.NewList(items)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tiltfile-check <Tiltfile> [-- --flag=value ...]")
		os.Exit(2)
	}
	file := os.Args[1]
	c := &checker{dir: filepath.Dir(file), flags: map[string]string{}, defined: map[string]bool{}, configDefs: map[string]bool{}}
	for _, arg := range os.Args[2:] {
		if arg == "--" {
			continue
		}
		name, value, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		c.flags[name] = value
	}
	predeclared := starlark.StringDict{
		"local_resource":      starlark.NewBuiltin("local_resource", c.localResource),
		"read_yaml":           starlark.NewBuiltin("read_yaml", c.readYAML),
		"TRIGGER_MODE_AUTO":   starlark.MakeInt(0),
		"TRIGGER_MODE_MANUAL": starlark.MakeInt(1),
		"config": &starlarkstruct.Module{Name: "config", Members: starlark.StringDict{
			"define_string_list": starlark.NewBuiltin("config.define_string_list", c.defineStringList),
			"parse":              starlark.NewBuiltin("config.parse", c.parse),
		}},
	}
	// Tilt's dialect: top-level if/for, reassigned globals, sets, while and recursion.
	options := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	thread := &starlark.Thread{Name: "tiltfile", Print: func(_ *starlark.Thread, msg string) { fmt.Fprintln(os.Stderr, msg) }}
	if _, err := starlark.ExecFileOptions(options, thread, file, nil, predeclared); err != nil {
		if evalErr, ok := err.(*starlark.EvalError); ok {
			fmt.Fprintln(os.Stderr, evalErr.Backtrace())
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
	var problems []string
	for _, r := range c.resources {
		for _, dep := range r.ResourceDeps {
			if !c.defined[dep] {
				problems = append(problems, fmt.Sprintf("%s depends on %q, which no resource defines", r.Name, dep))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		fmt.Fprintln(os.Stderr, strings.Join(problems, "\n"))
		os.Exit(1)
	}
	out, _ := json.MarshalIndent(c.resources, "", "  ")
	fmt.Println(string(out))
}
