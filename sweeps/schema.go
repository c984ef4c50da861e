package sweeps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// The spec's documentation is generated from its Go types: KeyDocs walks
// Spec by reflection over the mapstructure tags (the YAML keys) and joins
// each key with what this file says of it (its meaning, its fixed set of
// values, its bounds, its default where Normalize fills it). SpecSchema
// writes the JSON Schema (draft 2020-12) an editor validates and completes
// specs with, SpecReference the Markdown table of docs/spec-reference.md;
// `liesweep schema` prints both, and `make schema` writes them to docs/.

// KeyDoc describes one key of a spec, for its schema and reference.
type KeyDoc struct {
	// Path is the dotted YAML path, e.g. "train.lr".
	Path string
	// Type is the JSON Schema type: object (a section), array, integer,
	// number, string or boolean.
	Type string
	// Items is an array's entry type.
	Items string
	// Default is the JSON default (from DefaultSpec, or what Normalize
	// fills); HasDefault is false for a key without one.
	Default    any
	HasDefault bool
	// DefaultText is how the reference shows the default.
	DefaultText string
	// Required is "yes", the condition under which the key is required
	// (e.g. "with kind: analytic"), or "".
	Required string
	// Enum is the fixed set of values Validate accepts.
	Enum []string
	// Bounds are the limits Validate enforces on the value (on each entry
	// of a list).
	Bounds KeyBounds
	// Sweepable keys may be given a list of values, or {values: [...]}
	// (see SweepableKey).
	Sweepable bool
	// Description is the key's meaning, one line.
	Description string
}

// KeyBounds are the limits on one key. Min and Max are inclusive, on the
// value or, for a list, on each entry; Max…Name name the constants.
type KeyBounds struct {
	Min, Max      *float64
	ExclusiveMin  *float64
	MaxName       string
	MinItems      int
	MaxItems      int
	MaxItemsName  string
	Unique        bool
	MaxLength     int
	MaxLengthName string
	// ItemMaxLength bounds each string of a list.
	ItemMaxLength     int
	ItemMaxLengthName string
	Pattern           string
	PatternText       string
}

// SchemaURL is the JSON Schema dialect of SpecSchema.
const SchemaURL = "https://json-schema.org/draft/2020-12/schema"

// maxExprLen is datasets.MaxExprLen, the longest expression in bytes
// (datasets imports sweeps, so sweeps cannot import it; cmd/liesweep's
// TestSchemaExprBoundIsDatasets checks they agree).
const maxExprLen = 4096

// specDescriptions gives every key of the spec, sections included, its
// meaning. TestSchemaDescribesEveryField fails when a key has none or an
// entry names no key.
var specDescriptions = map[string]string{
	"name":                 "Sweep name, the prefix of the default sweep id <name>-<yyyymmdd-hhmmss>: letters, digits, '.', '_' or '-', starting with a letter or digit, no '..' (the sweep id's rule).",
	"dataset":              "The data: MNIST digits, Gaussian points labelled by an analytic oracle, or a table of your own.",
	"dataset.kind":         "table (your own labelled table: .csv, .npy, .npz or .parquet, ψ learned on it), mnist (MNIST digits through an autoencoder, with a trained oracle ψ) or analytic (an analytic oracle on R^dim).",
	"dataset.path":         "Images: the directory or s3://bucket/prefix holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz; grayscale [N, H, W] or [N, H, W, 3] RGB, sides 4–512), or a labels CSV (columns file, label, optional split train|test) listing PNGs relative to it, converted to an IDX set at staging. Table: the data file, a local path or s3://bucket/key (.csv and .parquet with a header, .npy [N, C], .npz with arrays x [N, d] and y [N]); liesweep run and sweep start put it into the store once under its SHA-256, which is part of every stage key (the path is not).",
	"dataset.features":     "Table: the feature columns, by header name or 0-based index (empty: every column but the target).",
	"dataset.target":       "Table: the target column by header name or index (default: the last column; for .npz the y array's name, default y).",
	"dataset.x_array":      "Table, .npz: the name of the feature array (default x).",
	"dataset.task":         "Table: classification (non-negative integer labels, ≥ 2 classes; ψ's logits or probabilities are preserved) or regression (ψ's scalar output is preserved).",
	"dataset.val_fraction": "Table: the fraction of rows held out for validation (seeded split; ψ's accuracy or R² and every metric are measured there).",
	"dataset.oracle":       "Analytic oracle: norm Σ x_i², lorentz x0² − Σ_{i≥1} x_i², or expr (the expressions of dataset.expr).",
	"dataset.dim":          "Analytic: the feature dimension, which is also the latent dimension ℓ.",
	"dataset.samples":      "Analytic: training points z ~ N(0, I_dim); evaluation uses a second sample of the same size.",
	"dataset.expr":         "oracle: expr: one expression per oracle output in x0…x{dim-1}, with + - * /, ^ to integer powers, unary minus, sin cos exp log sqrt tanh.",
	"dataset.classes":      "MNIST: digits 0–9; images: labels 0–255. The labels used; a subset splits the training set 3:1 at random, all ten use the set's own training and test files (MNIST: 60000/10000).",
	"dataset.max_train":    "MNIST, table: cap on the training images or rows (0 = all).",
	"dataset.max_val":      "MNIST, table: cap on the validation images or rows (0 = all).",
	"dataset.mnist_dir":    "MNIST: directory of the IDX files (empty: $LIESWEEP_MNIST_DIR, then the GoMNIST module in the Go module cache); part of no stage key.",

	"latent_dims": "Grid axis: the latent dimensions ℓ; MNIST, images: autoencoder bottleneck sizes (one mapping layer for ℓ ≤ 3, three above); analytic: must equal dataset.dim; table: the number of features (flows on the standardised features; the default) or fewer (an MLP autoencoder d → 64 → ℓ in front).",
	"ng":          "Grid axis: the numbers of generators N_g trained jointly (adaptive mode: the levels it ascends first).",
	"seeds":       "Grid axis: the random seeds; each (ℓ, N_g, seed) is one trial.",

	"generator":               "The generator networks and their loss terms.",
	"generator.kind":          "mlp (a tanh network per generator) or linear (g(z) = G z).",
	"generator.hidden":        "mlp: the hidden layer sizes of each generator network.",
	"generator.orthogonality": "pointwise (eq. 14, at each point) or global (in function space; Frobenius for linear generators).",
	"generator.init":          "Linear generators: random (default, small random matrices) or spectral — start from the N_g eigenvectors of the invariance term's quadratic form M = Σ_i Σ_c (∂ψ_c(z_i) ⊗ z_i)(…)ᵀ with the smallest eigenvalues, the global minimisers of L_inv under frobenius normalisation and global orthogonality (ℓ ≤ 32); training then only has to close them.",
	"generator.normalization": "pointwise (eq. 11: every field of unit length at every point), frobenius Σ(‖G‖_F² − 2)² (linear generators only), or mean Σ_α(1/m Σ_i|g_α(z_i)|² − 2)², frobenius for any field (a rotation's length varies over the points: |Lz| = |z| sin θ).",
	"generator.closure":       "posthoc (structure constants by least squares after training) or joint (a_[αβ]γ trained with the generators).",

	"train":                   "Generator training.",
	"train.epochs":            "Generator training epochs (early stopping may end training sooner).",
	"train.lr":                "Adam learning rate of the generators.",
	"train.epsilon":           "ε of eq. 10: the step along each generator over which the oracle must not change.",
	"train.batch":             "Minibatch size of generator training (0 = full batch).",
	"train.h_norm":            "Weight of the normalization loss.",
	"train.h_ortho":           "Weight of the orthogonality loss.",
	"train.h_closure":         "Weight of the closure loss.",
	"train.max_points":        "Cap on the training latents (0 = all).",
	"train.eval_points":       "Validation points for the metrics and the structure constants.",
	"train.checkpoint_every":  "Epochs between checkpoints of generator training.",
	"train.early_stop":        "Stop once every loss term has plateaued (false: always train train.epochs).",
	"train.early_stop_window": "Early stopping's window in epochs: every window, each loss term's mean over it is compared with the window before.",
	"train.early_stop_tol":    "Early stopping ends training when no loss term improved by more than this fraction (relative) over a window; resumed runs stop at the same epoch.",
	"train.inv_loss":          "The invariance term trained on: raw (eq. 10 as written) or ratio (eq. 10 along each generator's unit direction over its value for random unit directions, i.e. the inv_ratio metric itself: scale-free, so a sharp learned ψ cannot make the generators shrink).",

	"autoencoder":        "MNIST, images: the conv autoencoder, which maps images to ℓ latent dimensions and back; table with ℓ below its features: the MLP autoencoder d → 64 → ℓ → 64 → d.",
	"autoencoder.epochs": "MNIST, images, table with ℓ below its features: autoencoder training epochs.",
	"autoencoder.lr":     "MNIST, images, table with ℓ below its features: Adam learning rate of the autoencoder.",
	"autoencoder.batch":  "MNIST, images, table with ℓ below its features: minibatch size of the autoencoder.",

	"oracle_net":            "The oracle stage: ψ, the classifier (or, for a table, regressor) on the latents whose outputs the flows preserve (trained for MNIST and tables).",
	"oracle_net.epochs":     "MNIST, table: ψ's training epochs (longer only sharpens its logits and weakens the flows).",
	"oracle_net.lr":         "MNIST, table: Adam learning rate of ψ.",
	"oracle_net.batch":      "MNIST, table: minibatch size of ψ.",
	"oracle_net.preserve":   "What the generators preserve: ψ's logits (eq. 6) or its softmax probabilities (classifiers).",
	"oracle_net.hidden":     "Table: ψ's hidden layer sizes (MNIST's ψ is the paper's 128-128-32).",
	"oracle_net.activation": "Table: ψ's activation, tanh (smooth) or relu.",
	"oracle_net.onnx":       "Table: your own trained ψ instead of a learned one — an ONNX model exported from PyTorch (opset ≥ 13: Gemm, MatMul, Add, Sub, Mul, Div, Relu, Tanh, Sigmoid, Softmax, Flatten, Reshape, …) taking the table's raw features [N, d] and giving logits (classification: one per class, or one for two classes; no trailing Sigmoid/Softmax — preserve: probabilities applies it) or the regression's value, a local path or s3://bucket/key; imported into the generators' graph, its SHA-256 part of every stage key.",

	"classifier":        "MNIST: φ, the pixel-space CNN that judges decoded streamline frames independently of the autoencoder and ψ (one per seed).",
	"classifier.epochs": "MNIST: φ's training epochs.",
	"classifier.lr":     "MNIST: Adam learning rate of φ.",
	"classifier.batch":  "MNIST: minibatch size of φ.",

	"verdict":             "The pass thresholds of a trial and the quorum of an N_g.",
	"verdict.inv_ratio":   "A trial passes when inv_ratio (the oracle's change along the generators relative to random directions) is under this. The default 0.01 was calibrated at ℓ = 2, 4, 8, 16 on true symmetries, one generator too many and null oracles, with formulas and learned ψ (docs/results.md): no false positive in any case, no false negative where the flows exist; a tangency angle (inv_ratio·rank/ℓ) was as good on those and passed a random-network null at ℓ = 8.",
	"verdict.ortho_cos2":  "A trial passes when ortho_cos2 (the mean squared cosine between generator pairs) is under this.",
	"verdict.norm_dev":    "A trial passes when norm_dev (the normalization loss on the evaluation points) is under this.",
	"verdict.closure_rel": "A trial passes when closure_rel (the largest relative residual of the fitted structure constants) is under this.",
	"verdict.quorum":      "Seeds that must pass for an N_g to pass (at most the number of seeds).",

	"concurrency": "(ℓ, seed) groups trained at once, on Temporal and in liesweep run.",

	"adaptive":          "Adaptive mode: ascend N_g level by level instead of training the whole grid (on Temporal and in liesweep run).",
	"adaptive.enabled":  "Ascend N_g level by level: the ng values in order, then one more generator at a time while levels pass.",
	"adaptive.patience": "Drop a latent dimension from the ascent after this many consecutive failed levels.",
	"adaptive.max_ng":   "The highest N_g the ascent reaches (0: ℓ², the dimension of gl(ℓ)).",
}

// specEnums are the keys with a fixed set of values, as Validate checks
// them (TestSchemaEnumsMatchValidate).
var specEnums = map[string][]string{
	"dataset.kind":            {"mnist", "images", "analytic", "table"},
	"dataset.task":            {"classification", "regression"},
	"train.inv_loss":          {"raw", "ratio"},
	"oracle_net.activation":   {"tanh", "relu"},
	"dataset.oracle":          {"norm", "lorentz", "expr"},
	"generator.kind":          {"mlp", "linear"},
	"generator.orthogonality": {"pointwise", "global"},
	"generator.normalization": {"pointwise", "frobenius", "mean"},
	"generator.init":          {"random", "spectral"},
	"generator.closure":       {"posthoc", "joint"},
	"oracle_net.preserve":     {"logits", "probabilities"},
}

func bound(x float64) *float64 { return &x }

// specBounds are the bounds Validate enforces on a key by itself, where the
// key is read (dataset.dim and dataset.samples with kind: analytic, the
// stages' epochs, lr and batch with kind: mnist). Bounds across keys
// (samples × dim, the grid's trials, the generator weights, the total
// bytes of the expressions) are in the reference's text.
// TestSchemaBoundsMatchValidate checks each against Validate.
var specBounds = map[string]KeyBounds{
	"name":                 {MaxLength: MaxNameLen, MaxLengthName: "MaxNameLen", Pattern: "^([A-Za-z0-9][A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]+)*\\.?)?$", PatternText: "letters, digits, '.', '_', '-'; starts with a letter or digit; no '..'"},
	"dataset.dim":          {Min: bound(1), Max: bound(MaxDim), MaxName: "MaxDim"},
	"dataset.samples":      {Min: bound(2), Max: bound(MaxSamples), MaxName: "MaxSamples"},
	"dataset.expr":         {MaxItems: MaxExprs, MaxItemsName: "MaxExprs", ItemMaxLength: maxExprLen, ItemMaxLengthName: "datasets.MaxExprLen"},
	"dataset.classes":      {Min: bound(0), Max: bound(255), Unique: true},
	"dataset.max_train":    {Min: bound(0)},
	"dataset.max_val":      {Min: bound(0)},
	"dataset.val_fraction": {Min: bound(0.01), Max: bound(0.9)},
	"oracle_net.hidden":    {Min: bound(1), Max: bound(MaxHiddenWidth), MaxName: "MaxHiddenWidth", MaxItems: MaxHiddenLayers, MaxItemsName: "MaxHiddenLayers"},
	"latent_dims":          {Min: bound(1), Max: bound(MaxLatentDim), MaxName: "MaxLatentDim", Unique: true},
	"ng":                   {Min: bound(1), Max: bound(MaxNG), MaxName: "MaxNG", Unique: true, MinItems: 1},
	"seeds":                {Min: bound(0), Unique: true, MinItems: 1, MaxItems: MaxTrials, MaxItemsName: "MaxTrials"},
	"generator.hidden":     {Min: bound(1), Max: bound(MaxHiddenWidth), MaxName: "MaxHiddenWidth", MaxItems: MaxHiddenLayers, MaxItemsName: "MaxHiddenLayers"},

	"train.epochs":            {Min: bound(1), Max: bound(MaxEpochs), MaxName: "MaxEpochs"},
	"train.lr":                {ExclusiveMin: bound(0)},
	"train.epsilon":           {ExclusiveMin: bound(0)},
	"train.batch":             {Min: bound(0)},
	"train.h_norm":            {Min: bound(0)},
	"train.h_ortho":           {Min: bound(0)},
	"train.h_closure":         {Min: bound(0)},
	"train.max_points":        {Min: bound(0), Max: bound(MaxPoints), MaxName: "MaxPoints"},
	"train.eval_points":       {Min: bound(10), Max: bound(MaxPoints), MaxName: "MaxPoints"},
	"train.checkpoint_every":  {Min: bound(1)},
	"train.early_stop_window": {Min: bound(1)},
	"train.early_stop_tol":    {Min: bound(0)},

	"autoencoder.epochs": {Min: bound(1), Max: bound(MaxEpochs), MaxName: "MaxEpochs"},
	"autoencoder.lr":     {ExclusiveMin: bound(0)},
	"autoencoder.batch":  {Min: bound(1)},
	"oracle_net.epochs":  {Min: bound(1), Max: bound(MaxEpochs), MaxName: "MaxEpochs"},
	"oracle_net.lr":      {ExclusiveMin: bound(0)},
	"oracle_net.batch":   {Min: bound(1)},
	"classifier.epochs":  {Min: bound(1), Max: bound(MaxEpochs), MaxName: "MaxEpochs"},
	"classifier.lr":      {ExclusiveMin: bound(0)},
	"classifier.batch":   {Min: bound(1)},

	"verdict.inv_ratio":   {ExclusiveMin: bound(0)},
	"verdict.ortho_cos2":  {ExclusiveMin: bound(0)},
	"verdict.norm_dev":    {ExclusiveMin: bound(0)},
	"verdict.closure_rel": {ExclusiveMin: bound(0)},
	"verdict.quorum":      {Min: bound(1)},

	"concurrency":       {Min: bound(1), Max: bound(MaxConcurrency), MaxName: "MaxConcurrency"},
	"adaptive.patience": {Min: bound(1)},
	"adaptive.max_ng":   {Min: bound(0), Max: bound(MaxNG), MaxName: "MaxNG"},
}

// specRequired are the required keys: "yes" always, else the condition.
var specRequired = map[string]string{
	"dataset":        "yes",
	"dataset.kind":   "yes",
	"dataset.oracle": "with kind: analytic",
	"dataset.dim":    "with kind: analytic",
	"dataset.expr":   "with oracle: expr",
	"dataset.path":   "with kind: table or images",
	"latent_dims":    "with kind: mnist",
}

// specDefault is a default that DefaultSpec's zero value does not say.
type specDefault struct {
	value any // the JSON default; nil: none
	text  string
}

// specDefaults are the defaults Normalize fills, and the keys without one.
var specDefaults = map[string]specDefault{
	"dataset.kind":            {text: "none"},
	"dataset.oracle":          {text: "none"},
	"dataset.dim":             {text: "none"},
	"dataset.samples":         {value: 300, text: "`300` (analytic)"},
	"dataset.classes":         {value: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, text: "`[0, 1, …, 9]`"},
	"latent_dims":             {text: "`[dataset.dim]` (analytic), the number of features (table)"},
	"dataset.task":            {value: "classification", text: "`classification` (table)"},
	"dataset.val_fraction":    {value: 0.25, text: "`0.25` (table)"},
	"oracle_net.hidden":       {value: []int{128, 128}, text: "`[128, 128]` (table)"},
	"oracle_net.activation":   {value: "tanh", text: "`tanh` (table)"},
	"train.inv_loss":          {text: "`ratio` (table), `raw` otherwise"},
	"generator.normalization": {text: "`pointwise` (mlp), `frobenius` (linear)"},
}

// KeyDocs lists every key of a spec, sections before their keys, in the
// order of Spec's fields.
func KeyDocs() []KeyDoc {
	var out []KeyDoc
	walkSpec(reflect.TypeOf(Spec{}), reflect.ValueOf(DefaultSpec()), "", func(k KeyDoc) { out = append(out, k) })
	return out
}

// walkSpec calls visit for each YAML key of the struct type t (with its
// default value v) and, depth first, of its sections.
func walkSpec(t reflect.Type, v reflect.Value, prefix string, visit func(KeyDoc)) {
	for _, k := range yamlFields(t, prefix) {
		visit(keyDoc(k.path, k.field.Type, v.Field(k.index)))
		if k.field.Type.Kind() == reflect.Struct {
			walkSpec(k.field.Type, v.Field(k.index), k.path, visit)
		}
	}
}

// yamlField is a field of a spec struct with its YAML key and dotted path.
type yamlField struct {
	field     reflect.StructField
	index     int
	tag, path string
}

// yamlFields lists the fields of struct type t that are YAML keys (their
// mapstructure tags; "-" is not), with their paths under prefix.
func yamlFields(t reflect.Type, prefix string) []yamlField {
	var out []yamlField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		path := tag
		if prefix != "" {
			path = prefix + "." + tag
		}
		out = append(out, yamlField{f, i, tag, path})
	}
	return out
}

// jsonType is the JSON Schema type of a spec field's Go type.
func jsonType(t reflect.Type, path string) string {
	switch t.Kind() {
	case reflect.Struct:
		return "object"
	case reflect.Slice:
		return "array"
	case reflect.Int:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	}
	panic(fmt.Sprintf("sweeps: spec field %s has type %s, which the schema does not know", path, t))
}

func keyDoc(path string, t reflect.Type, def reflect.Value) KeyDoc {
	k := KeyDoc{
		Path:        path,
		Type:        jsonType(t, path),
		Required:    specRequired[path],
		Enum:        specEnums[path],
		Bounds:      specBounds[path],
		Description: specDescriptions[path],
	}
	if k.Type == "array" {
		k.Items = jsonType(t.Elem(), path+"[]")
	}
	if k.Type != "object" {
		k.Sweepable = SweepableKey(path) == nil
		if d, ok := specDefaults[path]; ok {
			k.Default, k.HasDefault, k.DefaultText = d.value, d.value != nil, d.text
		} else {
			if def.Kind() == reflect.Slice && def.IsNil() {
				def = reflect.MakeSlice(t, 0, 0)
			}
			k.Default, k.HasDefault = def.Interface(), true
		}
		if k.DefaultText == "" && k.HasDefault {
			k.DefaultText = "`" + formatDefault(k.Default) + "`"
		}
	}
	return k
}

func formatDefault(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return `""`
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = formatDefault(rv.Index(i).Interface())
			if rv.Index(i).Kind() == reflect.String {
				parts[i] = strconv.Quote(rv.Index(i).String())
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// object is a JSON object whose keys keep their order.
type object []member

type member struct {
	key   string
	value any
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.value); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// SpecSchema returns the JSON Schema (draft 2020-12) of a spec file,
// indented, with a final newline: docs/spec.schema.json.
func SpecSchema() []byte {
	keys := map[string]KeyDoc{}
	for _, k := range KeyDocs() {
		keys[k.Path] = k
	}
	root := object{
		{"$schema", SchemaURL},
		{"$comment", "Generated from the Go type sweeps.Spec by `liesweep schema` (make schema); do not edit. docs/spec-reference.md describes the same keys."},
		{"title", "liesweep sweep spec"},
		{"description", "A liesweep sweep: one dataset, a grid over latent_dims × ng × seeds (and the product of any swept keys), and the hyperparameters of every stage. Every key but dataset.kind has a default."},
	}
	root = append(root, objectSchema(reflect.TypeOf(Spec{}), "", keys)...)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic(err) // the schema is built of strings, numbers and lists
	}
	return b.Bytes()
}

// objectSchema is the schema of the section of type t at prefix, without
// its description.
func objectSchema(t reflect.Type, prefix string, keys map[string]KeyDoc) object {
	props := object{}
	var required []string
	for _, yf := range yamlFields(t, prefix) {
		f, tag, path := yf.field, yf.tag, yf.path
		k := keys[path]
		if k.Required == "yes" {
			required = append(required, tag)
		}
		s := object{{"description", k.Description}}
		if k.Type == "object" {
			s = append(s, objectSchema(f.Type, path, keys)...)
		} else {
			if k.HasDefault {
				s = append(s, member{"default", k.Default})
			}
			s = append(s, leafSchema(k)...)
		}
		props = append(props, member{tag, s})
	}
	o := object{{"type", "object"}, {"properties", props}}
	if len(required) > 0 {
		o = append(o, member{"required", required})
	}
	return append(o, member{"additionalProperties", false})
}

// leafSchema is the type and bounds of a key: for a sweepable key, either
// one value, a list of them, or W&B's {values: [...]}.
func leafSchema(k KeyDoc) object {
	b := k.Bounds
	value := object{{"type", k.Type}}
	entry := &value
	if k.Type == "array" {
		item := object{{"type", k.Items}}
		entry = &item
	}
	if k.Enum != nil {
		*entry = append(*entry, member{"enum", k.Enum})
	}
	if b.Min != nil {
		*entry = append(*entry, member{"minimum", *b.Min})
	}
	if b.ExclusiveMin != nil {
		*entry = append(*entry, member{"exclusiveMinimum", *b.ExclusiveMin})
	}
	if b.Max != nil {
		*entry = append(*entry, member{"maximum", *b.Max})
	}
	if b.MaxLength > 0 {
		*entry = append(*entry, member{"maxLength", b.MaxLength})
	}
	if b.ItemMaxLength > 0 {
		*entry = append(*entry, member{"maxLength", b.ItemMaxLength})
	}
	if b.Pattern != "" {
		*entry = append(*entry, member{"pattern", b.Pattern})
	}
	if k.Type == "array" {
		value = append(value, member{"items", *entry})
		if b.MinItems > 0 {
			value = append(value, member{"minItems", b.MinItems})
		}
		if b.MaxItems > 0 {
			value = append(value, member{"maxItems", b.MaxItems})
		}
		if b.Unique {
			value = append(value, member{"uniqueItems", true})
		}
	}
	if !k.Sweepable {
		return value
	}
	list := object{{"type", "array"}, {"items", value}, {"minItems", 1}}
	return object{{"anyOf", []any{
		value,
		list,
		object{{"type", "object"}, {"properties", object{{"values", list}}}, {"required", []string{"values"}}, {"additionalProperties", false}},
	}}}
}

// SpecSweepExample is the reference's example of swept keys; cmd/liesweep's
// tests load it.
const SpecSweepExample = `name: so3-sweep
dataset: {kind: analytic, oracle: norm, dim: 3}
ng: [1, 2, 3, 4]
generator:
  kind: linear
  orthogonality: global
  closure: [posthoc, joint]       # a list of values sweeps the key
train:
  lr: [1.0e-3, 3.0e-3]
  epochs: {values: [2000, 6000]}  # W&B's form sweeps it too
`

// SpecReference returns docs/spec-reference.md: an introduction, the table
// of every key and an example of sweeping keys.
func SpecReference() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("<!-- Generated from sweeps.Spec by `liesweep schema --reference` (make schema); do not edit. -->\n\n")
	p("# Spec reference\n\n")
	p("A sweep spec is a YAML file (at most 1 MiB): one dataset, a grid over\n")
	p("`latent_dims` × `ng` × `seeds`, and the hyperparameters of every stage. It is\n")
	p("decoded strictly: an unknown key, a key given twice, a wrong type (a string or\n")
	p("a fraction for an integer, a scalar for a list) or a non-finite number is an\n")
	p("error naming the key path and line, and every problem is reported at once.\n")
	p("Every key but `dataset.kind` has a default; `liesweep validate SPEC` prints a\n")
	p("spec with its defaults filled in.\n\n")
	p("[`spec.schema.json`](spec.schema.json) is the JSON Schema (draft 2020-12) of\n")
	p("the same keys, generated from the Go types like this page (`make schema`;\n")
	p("`liesweep schema` prints it). A spec whose first line is\n\n")
	p("```yaml\n# yaml-language-server: $schema=../docs/spec.schema.json\n```\n\n")
	p("(the path relative to the spec, as in `examples/`) is validated and completed\n")
	p("by editors with the YAML language server, such as VS Code's YAML extension.\n\n")
	p("**Types.** A *number* may be written as an integer or a decimal (`1.0e-3`); an\n")
	p("*integer* may not be a fraction. A section is a mapping of its keys, in block\n")
	p("or flow style (`autoencoder: {epochs: 10}`). **Bounds** keep what one spec can\n")
	p("ask of a worker finite; the constants named are `sweeps.Max…`. Some bounds\n")
	p("span keys: samples × dim ≤ %d (MaxSampleValues); the grid, including the\n", MaxSampleValues)
	p("combinations of swept keys, ≤ %d trials (MaxTrials); the largest generator set\n", MaxTrials)
	p("(adaptive mode's ascent included) ≤ %d weights (MaxGeneratorWeights) and an\n", MaxGeneratorWeights)
	p("estimated peak memory of training it ≤ %d GiB (MaxGeneratorMemory: per training\n", MaxGeneratorMemory>>30)
	p("point and generator 8 KiB + 20 B·ℓ² + 64 B per hidden unit, and per evaluation\n")
	p("point and MLP generator 8 B·ℓ·(ℓ + hidden units), fitted to measured peaks; the\n")
	p("points are train.batch, dataset.samples or train.max_points), and so are the\n")
	p("conv networks' batches (autoencoder, classifier: 512 B per pixel of a batch) and\n")
	p("ψ's (16 B per weight, 32 B per hidden unit and row of a batch; its weights ≤\n")
	p("MaxGeneratorWeights); linear\n")
	p("N_g ≤ ℓ², and for analytic oracles N_g ≤ min(samples, eval_points) · ℓ (the\n")
	p("structure constants need that many values per field); the\n")
	p("expressions ≤ %d bytes in all (MaxExprBytes). Bounds on `dataset.dim` and\n", MaxExprBytes)
	p("`dataset.samples` apply with `kind: analytic`, those on the stages' `epochs`,\n")
	p("`lr` and `batch` with `kind: mnist`; a key marked *sweepable* may be given a\n")
	p("list of values (see [Sweeping keys](#sweeping-keys)).\n\n")
	p("## Keys\n\n")
	p("| key | type | default | required | bounds | sweepable | meaning |\n")
	p("|---|---|---|---|---|---|---|\n")
	for _, k := range KeyDocs() {
		typ := k.Type
		switch k.Type {
		case "object":
			typ = "section"
		case "array":
			typ = "list of " + k.Items + "s"
		}
		if k.Enum != nil {
			typ += ": " + strings.Join(quoteAll(k.Enum), " \\| ")
		}
		req := k.Required
		if req == "" {
			req = "no"
		}
		sweep := ""
		if k.Sweepable {
			sweep = "yes"
		}
		p("| `%s` | %s | %s | %s | %s | %s | %s |\n", k.Path, typ, k.DefaultText, req, boundsText(k), sweep, markdownCell.Replace(k.Description))
	}
	p("\n## Sweeping keys\n\n")
	p("Besides the grid's own lists (`latent_dims`, `ng`, `seeds`), any scalar key of\n")
	p("the sections %s but `verdict.quorum` may be\n", strings.Join(quoteAll(AxisSections), ", "))
	p("given a list of values, or W&B's `{values: [...]}`; `generator.hidden` takes a\n")
	p("list of lists (`hidden: [[16, 16], [32, 32]]`). The sweep runs the product of\n")
	p("the swept keys with ℓ × N_g × seed, sharing every stage whose config is equal,\n")
	p("and judges each combination on its own. This spec trains 2 × 2 × 2 = 8\n")
	p("combinations × 4 N_g = 32 trials:\n\n")
	p("```yaml\n%s```\n", SpecSweepExample)
	return b.String()
}

// markdownCell escapes a description for a table cell.
var markdownCell = strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;")

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return out
}

// boundsText writes a key's bounds for the reference.
func boundsText(k KeyDoc) string {
	b := k.Bounds
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	named := func(s, name string) string {
		if name == "" {
			return s
		}
		return s + " (" + name + ")"
	}
	var value string
	switch {
	case b.Min != nil && b.Max != nil:
		value = named(num(*b.Min)+" … "+num(*b.Max), b.MaxName)
	case b.Min != nil:
		value = "≥ " + num(*b.Min)
	case b.ExclusiveMin != nil:
		value = "> " + num(*b.ExclusiveMin)
	case b.Max != nil:
		value = named("≤ "+num(*b.Max), b.MaxName)
	}
	var parts []string
	if value != "" {
		if k.Type == "array" {
			value = "entries " + value
		}
		parts = append(parts, value)
	}
	if b.Unique {
		parts = append(parts, "distinct")
	}
	if b.MinItems == 1 {
		parts = append(parts, "not empty")
	} else if b.MinItems > 1 {
		parts = append(parts, fmt.Sprintf("≥ %d entries", b.MinItems))
	}
	if b.MaxItems > 0 {
		parts = append(parts, named(fmt.Sprintf("≤ %d entries", b.MaxItems), b.MaxItemsName))
	}
	if b.MaxLength > 0 {
		parts = append(parts, named(fmt.Sprintf("≤ %d bytes", b.MaxLength), b.MaxLengthName))
	}
	if b.ItemMaxLength > 0 {
		parts = append(parts, named(fmt.Sprintf("each ≤ %d bytes", b.ItemMaxLength), b.ItemMaxLengthName))
	}
	if b.PatternText != "" {
		parts = append(parts, b.PatternText)
	}
	return strings.Join(parts, "; ")
}
