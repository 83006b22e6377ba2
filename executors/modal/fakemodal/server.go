package fakemodal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// FaultKind is a failure the server injects into a sandbox.
type FaultKind int

const (
	// Lost ends the sandbox as a lost worker: status INTERNAL_FAILURE.
	Lost FaultKind = iota + 1
	// Preempted ends the sandbox as preempted: status TERMINATED.
	Preempted
	// TimedOut ends the sandbox as timed out: status TIMEOUT.
	TimedOut
	// LoseOutput keeps only the first 100 bytes of the sandbox's stdout,
	// as a V2 sandbox whose output outran its reader would, and lets the
	// command run to its end.
	LoseOutput
)

func (k FaultKind) String() string {
	switch k {
	case Lost:
		return "lost"
	case Preempted:
		return "preempted"
	case TimedOut:
		return "timed out"
	case LoseOutput:
		return "lose output"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is an injected failure: the next Count sandboxes whose command
// contains Match end with Kind, After their start.
type Fault struct {
	Kind  FaultKind
	Match string
	Count int
	After time.Duration
}

// SandboxInfo describes a sandbox the server ran, for tests.
type SandboxInfo struct {
	ID      string
	V2      bool
	Command []string
	// Done is set once the sandbox has ended, and Status, ExitCode and
	// Exception describe how.
	Done      bool
	Status    string
	ExitCode  int
	Exception string
	// Terminated is set when the client called SandboxTerminate.
	Terminated bool
	Stdout     []byte
	Stderr     []byte
}

// Server is a fake Modal control plane and task command router on
// 127.0.0.1. Every sandbox runs its entry command as a local process; a
// named volume is a directory under the server's root.
type Server struct {
	pb.UnimplementedModalClientServer

	root        string
	tokenID     string
	tokenSecret string

	cpListener     net.Listener
	routerListener net.Listener
	cp             *grpc.Server
	router         *grpc.Server
	routerJWT      string

	mu          sync.Mutex
	apps        map[string]string
	volumes     map[string]string // volume id -> directory
	volumeNames map[string]string // environment/name -> volume id
	images      map[string][]string
	sandboxes   map[string]*sandbox
	order       []*sandbox
	faults      []*Fault
	running     int
	maxRunning  int
	seq         int
}

// Start serves a fake control plane that accepts the given token, keeping
// volumes and sandbox directories under root.
func Start(root, tokenID, tokenSecret string) (*Server, error) {
	s := &Server{
		root: root, tokenID: tokenID, tokenSecret: tokenSecret,
		apps: map[string]string{}, volumes: map[string]string{}, volumeNames: map[string]string{},
		images: map[string][]string{}, sandboxes: map[string]*sandbox{},
	}
	var err error
	if s.cpListener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	if s.routerListener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		s.cpListener.Close()
		return nil, err
	}
	s.routerJWT = makeJWT(time.Now().Add(24 * time.Hour))
	s.cp = grpc.NewServer(
		grpc.MaxRecvMsgSize(128<<20),
		grpc.ChainUnaryInterceptor(s.checkUnaryCredentials),
		grpc.ChainStreamInterceptor(s.checkStreamCredentials),
	)
	pb.RegisterModalClientServer(s.cp, s)
	s.router = grpc.NewServer(grpc.MaxRecvMsgSize(128 << 20))
	pb.RegisterTaskCommandRouterServer(s.router, &router{s: s})
	go func() { _ = s.cp.Serve(s.cpListener) }()
	go func() { _ = s.router.Serve(s.routerListener) }()
	return s, nil
}

// URL is the control plane's address, for MODAL_SERVER_URL.
func (s *Server) URL() string { return "http://" + s.cpListener.Addr().String() }

// Close kills every sandbox still running and stops both servers.
func (s *Server) Close() {
	s.mu.Lock()
	all := append([]*sandbox(nil), s.order...)
	s.mu.Unlock()
	for _, sb := range all {
		sb.end(pb.GenericResult_GENERIC_STATUS_TERMINATED, 0, "fake Modal server stopped")
	}
	for _, sb := range all {
		<-sb.done
	}
	s.cp.Stop()
	s.router.Stop()
}

// VolumeDir returns the directory of the named volume in the default
// environment, creating it.
func (s *Server) VolumeDir(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.volumes[s.volumeLocked("", name)]
}

// InjectFault adds a fault for the sandboxes created from now on.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Sandboxes describes every sandbox created so far, oldest first.
func (s *Server) Sandboxes() []SandboxInfo {
	s.mu.Lock()
	all := append([]*sandbox(nil), s.order...)
	s.mu.Unlock()
	infos := make([]SandboxInfo, 0, len(all))
	for _, sb := range all {
		info := SandboxInfo{ID: sb.id, V2: sb.v2, Command: sb.command, Done: sb.finished(),
			Stdout: sb.stdout.bytes(), Stderr: sb.stderr.bytes()}
		sb.mu.Lock()
		info.Terminated = sb.terminated
		if info.Done && sb.result != nil {
			info.Status = strings.ToLower(strings.TrimPrefix(sb.result.GetStatus().String(), "GENERIC_STATUS_"))
			info.ExitCode = int(sb.result.GetExitcode())
			info.Exception = sb.result.GetException()
		}
		sb.mu.Unlock()
		infos = append(infos, info)
	}
	return infos
}

// MaxRunning returns the largest number of sandboxes that ran at once.
func (s *Server) MaxRunning() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxRunning
}

func (s *Server) checkCredentials(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if first(md, "x-modal-token-id") != s.tokenID || first(md, "x-modal-token-secret") != s.tokenSecret {
		return status.Error(codes.Unauthenticated, "token id or secret is invalid")
	}
	return nil
}

func (s *Server) checkUnaryCredentials(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := s.checkCredentials(ctx); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) checkStreamCredentials(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.checkCredentials(ss.Context()); err != nil {
		return err
	}
	return handler(srv, ss)
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// makeJWT returns an unsigned token with an exp claim, which is all the
// SDK reads from one.
func makeJWT(exp time.Time) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload, _ := json.Marshal(map[string]any{"exp": exp.Unix()})
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".fake"
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix-N random characters. The SDK distinguishes V1
// sandbox ids (22 characters) from V2 ones by their length.
func newID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + "-" + string(b)
}

func (s *Server) AuthTokenGet(ctx context.Context, req *pb.AuthTokenGetRequest) (*pb.AuthTokenGetResponse, error) {
	return pb.AuthTokenGetResponse_builder{Token: makeJWT(time.Now().Add(time.Hour))}.Build(), nil
}

func (s *Server) EnvironmentGetOrCreate(ctx context.Context, req *pb.EnvironmentGetOrCreateRequest) (*pb.EnvironmentGetOrCreateResponse, error) {
	name := req.GetDeploymentName()
	if name == "" {
		name = "main"
	}
	return pb.EnvironmentGetOrCreateResponse_builder{
		EnvironmentId: "en-" + name,
		Metadata: pb.EnvironmentMetadata_builder{
			Name:     name,
			Settings: pb.EnvironmentSettings_builder{ImageBuilderVersion: "2024.10"}.Build(),
		}.Build(),
	}.Build(), nil
}

func (s *Server) AppGetOrCreate(ctx context.Context, req *pb.AppGetOrCreateRequest) (*pb.AppGetOrCreateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := req.GetEnvironmentName() + "/" + req.GetAppName()
	id, ok := s.apps[key]
	if !ok {
		if req.GetObjectCreationType() != pb.ObjectCreationType_OBJECT_CREATION_TYPE_CREATE_IF_MISSING {
			return nil, status.Errorf(codes.NotFound, "app %q not found", req.GetAppName())
		}
		id = newID("ap", 22)
		s.apps[key] = id
	}
	return pb.AppGetOrCreateResponse_builder{AppId: id}.Build(), nil
}

func (s *Server) VolumeGetOrCreate(ctx context.Context, req *pb.VolumeGetOrCreateRequest) (*pb.VolumeGetOrCreateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := req.GetEnvironmentName() + "/" + req.GetDeploymentName()
	if _, ok := s.volumeNames[key]; !ok &&
		req.GetObjectCreationType() != pb.ObjectCreationType_OBJECT_CREATION_TYPE_CREATE_IF_MISSING {
		return nil, status.Errorf(codes.NotFound, "volume %q not found", req.GetDeploymentName())
	}
	id := s.volumeLocked(req.GetEnvironmentName(), req.GetDeploymentName())
	return pb.VolumeGetOrCreateResponse_builder{VolumeId: id}.Build(), nil
}

func (s *Server) volumeLocked(env, name string) string {
	key := env + "/" + name
	if id, ok := s.volumeNames[key]; ok {
		return id
	}
	id := newID("vo", 22)
	dir := filepath.Join(s.root, "volumes", strings.ReplaceAll(key, "/", "_"))
	_ = os.MkdirAll(dir, 0o755)
	s.volumeNames[key] = id
	s.volumes[id] = dir
	return id
}

func (s *Server) ImageGetOrCreate(ctx context.Context, req *pb.ImageGetOrCreateRequest) (*pb.ImageGetOrCreateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newID("im", 22)
	s.images[id] = req.GetImage().GetDockerfileCommands()
	return pb.ImageGetOrCreateResponse_builder{
		ImageId: id,
		Result:  pb.GenericResult_builder{Status: pb.GenericResult_GENERIC_STATUS_SUCCESS}.Build(),
	}.Build(), nil
}

// createSandbox starts the sandbox of a create request.
func (s *Server) createSandbox(def *pb.Sandbox, v2 bool) (*sandbox, error) {
	s.mu.Lock()
	mounts := map[string]string{}
	for _, m := range def.GetVolumeMounts() {
		dir, ok := s.volumes[m.GetVolumeId()]
		if !ok {
			s.mu.Unlock()
			return nil, status.Errorf(codes.NotFound, "volume %s not found", m.GetVolumeId())
		}
		mounts[m.GetMountPath()] = dir
	}
	if _, ok := s.images[def.GetImageId()]; !ok {
		s.mu.Unlock()
		return nil, status.Errorf(codes.NotFound, "image %s not found", def.GetImageId())
	}
	s.seq++
	idLen := 22
	if v2 {
		idLen = 26
	}
	sb := &sandbox{
		id: newID("sb", idLen), taskID: newID("ta", 22), v2: v2,
		command: def.GetEntrypointArgs(),
		dir:     filepath.Join(s.root, "sandboxes", fmt.Sprintf("%04d", s.seq)),
		stdout:  newOutputBuffer(), stderr: newOutputBuffer(), done: make(chan struct{}),
		stdinIndex: 1,
	}
	fault := s.takeFaultLocked(strings.Join(sb.command, " "))
	s.sandboxes[sb.id] = sb
	s.order = append(s.order, sb)
	s.running++
	s.maxRunning = max(s.maxRunning, s.running)
	s.mu.Unlock()

	go func() {
		<-sb.done
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
	}()
	timeout := time.Duration(def.GetTimeoutSecs()) * time.Second
	if err := sb.start(mounts, timeout); err != nil {
		sb.end(pb.GenericResult_GENERIC_STATUS_INIT_FAILURE, 0, err.Error())
		sb.stdout.close()
		sb.stderr.close()
		close(sb.done)
		return sb, nil
	}
	switch {
	case fault == nil:
	case fault.Kind == LoseOutput:
		sb.stdout.keepAtMost(100)
	default:
		time.AfterFunc(fault.After, func() { s.applyFault(sb, fault.Kind) })
	}
	return sb, nil
}

func (s *Server) takeFaultLocked(command string) *Fault {
	for _, f := range s.faults {
		if f.Count > 0 && strings.Contains(command, f.Match) {
			f.Count--
			return f
		}
	}
	return nil
}

func (s *Server) applyFault(sb *sandbox, kind FaultKind) {
	switch kind {
	case Lost:
		sb.end(pb.GenericResult_GENERIC_STATUS_INTERNAL_FAILURE, 0, "worker lost (injected fault)")
	case Preempted:
		sb.end(pb.GenericResult_GENERIC_STATUS_TERMINATED, 0, "Sandbox was preempted (injected fault)")
	case TimedOut:
		sb.end(pb.GenericResult_GENERIC_STATUS_TIMEOUT, 0, "Sandbox timed out (injected fault)")
	}
}

func (s *Server) lookup(id string) (*sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb, ok := s.sandboxes[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "sandbox %s not found", id)
	}
	return sb, nil
}

func (s *Server) lookupTask(taskID string) (*sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sb := range s.sandboxes {
		if sb.taskID == taskID {
			return sb, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "task %s not found", taskID)
}

func (s *Server) routerAccess() *pb.CommandRouterAccess {
	return pb.CommandRouterAccess_builder{
		Jwt: s.routerJWT,
		Url: "https://" + s.routerListener.Addr().String(),
	}.Build()
}

func (s *Server) SandboxCreate(ctx context.Context, req *pb.SandboxCreateRequest) (*pb.SandboxCreateResponse, error) {
	sb, err := s.createSandbox(req.GetDefinition(), false)
	if err != nil {
		return nil, err
	}
	return pb.SandboxCreateResponse_builder{SandboxId: sb.id}.Build(), nil
}

func (s *Server) SandboxCreateV2(ctx context.Context, req *pb.SandboxCreateV2Request) (*pb.SandboxCreateV2Response, error) {
	sb, err := s.createSandbox(req.GetDefinition(), true)
	if err != nil {
		return nil, err
	}
	return pb.SandboxCreateV2Response_builder{
		SandboxId: sb.id, TaskId: sb.taskID, CommandRouterAccess: s.routerAccess(),
	}.Build(), nil
}

func (s *Server) getTaskID(id string) (*pb.SandboxGetTaskIdResponse, error) {
	sb, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	task := sb.taskID
	return pb.SandboxGetTaskIdResponse_builder{TaskId: &task}.Build(), nil
}

func (s *Server) SandboxGetTaskId(ctx context.Context, req *pb.SandboxGetTaskIdRequest) (*pb.SandboxGetTaskIdResponse, error) {
	return s.getTaskID(req.GetSandboxId())
}

func (s *Server) SandboxGetTaskIdV2(ctx context.Context, req *pb.SandboxGetTaskIdRequest) (*pb.SandboxGetTaskIdResponse, error) {
	return s.getTaskID(req.GetSandboxId())
}

func (s *Server) SandboxGetCommandRouterAccess(ctx context.Context, req *pb.SandboxGetCommandRouterAccessRequest) (*pb.SandboxGetCommandRouterAccessResponse, error) {
	if _, err := s.lookup(req.GetSandboxId()); err != nil {
		return nil, err
	}
	access := s.routerAccess()
	return pb.SandboxGetCommandRouterAccessResponse_builder{Jwt: access.GetJwt(), Url: access.GetUrl()}.Build(), nil
}

func (s *Server) TaskGetCommandRouterAccess(ctx context.Context, req *pb.TaskGetCommandRouterAccessRequest) (*pb.TaskGetCommandRouterAccessResponse, error) {
	if _, err := s.lookupTask(req.GetTaskId()); err != nil {
		return nil, err
	}
	access := s.routerAccess()
	return pb.TaskGetCommandRouterAccessResponse_builder{Jwt: access.GetJwt(), Url: access.GetUrl()}.Build(), nil
}

func (s *Server) wait(ctx context.Context, req *pb.SandboxWaitRequest) (*pb.SandboxWaitResponse, error) {
	sb, err := s.lookup(req.GetSandboxId())
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(time.Duration(float64(req.GetTimeout()) * float64(time.Second)))
	defer timer.Stop()
	select {
	case <-sb.done:
		return pb.SandboxWaitResponse_builder{Result: sb.finalResult()}.Build(), nil
	case <-timer.C:
		return pb.SandboxWaitResponse_builder{}.Build(), nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

func (s *Server) SandboxWait(ctx context.Context, req *pb.SandboxWaitRequest) (*pb.SandboxWaitResponse, error) {
	return s.wait(ctx, req)
}

func (s *Server) SandboxWaitV2(ctx context.Context, req *pb.SandboxWaitRequest) (*pb.SandboxWaitResponse, error) {
	return s.wait(ctx, req)
}

func (s *Server) terminate(req *pb.SandboxTerminateRequest) (*pb.SandboxTerminateResponse, error) {
	sb, err := s.lookup(req.GetSandboxId())
	if err != nil {
		return nil, err
	}
	sb.mu.Lock()
	sb.terminated = true
	sb.mu.Unlock()
	sb.end(pb.GenericResult_GENERIC_STATUS_TERMINATED, 0, "Sandbox terminated by the client")
	return pb.SandboxTerminateResponse_builder{}.Build(), nil
}

func (s *Server) SandboxTerminate(ctx context.Context, req *pb.SandboxTerminateRequest) (*pb.SandboxTerminateResponse, error) {
	return s.terminate(req)
}

func (s *Server) SandboxTerminateV2(ctx context.Context, req *pb.SandboxTerminateRequest) (*pb.SandboxTerminateResponse, error) {
	return s.terminate(req)
}

func (s *Server) SandboxStdinWrite(ctx context.Context, req *pb.SandboxStdinWriteRequest) (*pb.SandboxStdinWriteResponse, error) {
	sb, err := s.lookup(req.GetSandboxId())
	if err != nil {
		return nil, err
	}
	if err := sb.writeStdinIndexed(req.GetIndex(), req.GetInput(), req.GetEof()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return pb.SandboxStdinWriteResponse_builder{}.Build(), nil
}

// SandboxGetLogs streams a V1 sandbox's stdout or stderr. Entry ids are
// byte offsets, so a reopened stream resumes where the last batch ended.
func (s *Server) SandboxGetLogs(req *pb.SandboxGetLogsRequest, stream grpc.ServerStreamingServer[pb.TaskLogsBatch]) error {
	sb, err := s.lookup(req.GetSandboxId())
	if err != nil {
		return err
	}
	buf := sb.stdout
	if req.GetFileDescriptor() == pb.FileDescriptor_FILE_DESCRIPTOR_STDERR {
		buf = sb.stderr
	}
	var offset uint64
	if id := req.GetLastEntryId(); id != "" && id != "0-0" {
		if _, err := fmt.Sscanf(id, "%d", &offset); err != nil {
			return status.Errorf(codes.InvalidArgument, "entry id %q is invalid", id)
		}
	}
	for {
		chunk, err := buf.next(stream.Context(), offset, 64<<10)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return stream.Send(pb.TaskLogsBatch_builder{EntryId: fmt.Sprint(offset), Eof: true}.Build())
			}
			return err
		}
		offset += uint64(len(chunk))
		item := pb.TaskLogs_builder{Data: strings.ToValidUTF8(string(chunk), "\uFFFD"), FileDescriptor: req.GetFileDescriptor()}.Build()
		if err := stream.Send(pb.TaskLogsBatch_builder{
			TaskId: sb.taskID, EntryId: fmt.Sprint(offset), Items: []*pb.TaskLogs{item},
		}.Build()); err != nil {
			return err
		}
	}
}

// router is the task command router: a V2 sandbox's stdin and stdio.
type router struct {
	pb.UnimplementedTaskCommandRouterServer
	s *Server
}

func (r *router) checkJWT(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if first(md, "authorization") != "Bearer "+r.s.routerJWT {
		return status.Error(codes.Unauthenticated, "command router token is invalid")
	}
	return nil
}

func (r *router) SandboxStdinWriteV2(ctx context.Context, req *pb.SandboxStdinWriteV2Request) (*pb.SandboxStdinWriteV2Response, error) {
	if err := r.checkJWT(ctx); err != nil {
		return nil, err
	}
	sb, err := r.s.lookupTask(req.GetTaskId())
	if err != nil {
		return nil, err
	}
	if err := sb.writeStdinAt(req.GetOffset(), req.GetData(), req.GetEof()); err != nil {
		return nil, status.Error(codes.OutOfRange, err.Error())
	}
	return pb.SandboxStdinWriteV2Response_builder{}.Build(), nil
}

func (r *router) SandboxStdioReadV2(req *pb.SandboxStdioReadV2Request, stream grpc.ServerStreamingServer[pb.SandboxStdioReadV2Response]) error {
	if err := r.checkJWT(stream.Context()); err != nil {
		return err
	}
	sb, err := r.s.lookupTask(req.GetTaskId())
	if err != nil {
		return err
	}
	buf := sb.stdout
	if req.GetFileDescriptor() == pb.SandboxStdioFileDescriptor_SANDBOX_STDIO_FILE_DESCRIPTOR_STDERR {
		buf = sb.stderr
	}
	offset := req.GetOffset()
	for {
		chunk, err := buf.next(stream.Context(), offset, 64<<10)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := stream.Send(pb.SandboxStdioReadV2Response_builder{Data: chunk, StartingOffset: offset}.Build()); err != nil {
			return err
		}
		offset += uint64(len(chunk))
	}
}
