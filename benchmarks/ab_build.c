/* ab_build.c - before/after ratio of building from /proc/kallsyms, in one
 * process: loads two builds of the C core (shared libraries) and alternates
 * them, run by run, so the machine's fast and slow states fall on both.
 *
 *   gcc -O2 -fPIC -shared -std=c11 -pthread -Icsrc -o lib_B.so <the .c files of
 *       csrc but test_ and fuzz_ ones>   (lib_A.so the same in the older checkout)
 *   gcc -O2 benchmarks/ab_build.c -ldl -o ab_build
 *   ./ab_build ./lib_A.so ./lib_B.so [/proc/kallsyms [runs]]
 *
 * Times read + parse (ksym_builder_add_fd), finish, and the builder's free
 * (which Python's from_file waits for too) separately, totals all three,
 * and checks that both builds give the same names bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dlfcn.h>
#include <stdint.h>
#include <fcntl.h>
#include <unistd.h>
static double now(void){struct timespec ts;clock_gettime(CLOCK_MONOTONIC,&ts);return ts.tv_sec+ts.tv_nsec*1e-9;}
struct api { void*(*bnew)(void); int (*addfd)(void*,int); int (*fin)(void*,void**); void (*tfree)(void*); void (*bfree)(void*);
 const uint8_t*(*names)(void*,size_t*);};
static void load(struct api*a,const char*so){ void*h=dlopen(so,RTLD_NOW|RTLD_LOCAL); if(!h){puts(dlerror());exit(1);}
 a->bnew=dlsym(h,"ksym_builder_new"); a->addfd=dlsym(h,"ksym_builder_add_fd"); a->fin=dlsym(h,"ksym_builder_finish"); a->tfree=dlsym(h,"ksym_table_free"); a->bfree=dlsym(h,"ksym_builder_free"); a->names=dlsym(h,"ksym_names_bytes");}
int cmpd(const void*a,const void*b){double x=*(const double*)a,y=*(const double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  const char*path=argc>3?argv[3]:"/proc/kallsyms"; int R=argc>4?atoi(argv[4]):20;
  struct api A[2]; load(&A[0],argv[1]); load(&A[1],argv[2]);
  double fin[2][200], tot[2][200], rd[2][200], fr[2][200];
  size_t nl[2]={0,0}; uint8_t *nb[2]={0,0};
  for(int rep=0;rep<2*R;rep++){ struct api*x=&A[rep&1];
    double t0=now();
    int fd=open(path,O_RDONLY);
    void*b=x->bnew(); if(x->addfd(b,fd)<0)return 2; close(fd);
    double t1=now(); void*t; if(x->fin(b,&t)<0)return 3; double t2=now();
    x->bfree(b); double t3=now();
    fin[rep&1][rep/2]=t2-t1; tot[rep&1][rep/2]=t3-t0; rd[rep&1][rep/2]=t1-t0; fr[rep&1][rep/2]=t3-t2;
    if(rep<2){ size_t l; const uint8_t*p=x->names(t,&l); nb[rep]=malloc(l); memcpy(nb[rep],p,l); nl[rep]=l; }
    x->tfree(t);
  }
  for(int k=0;k<2;k++){qsort(fin[k],R,8,cmpd);qsort(tot[k],R,8,cmpd);qsort(rd[k],R,8,cmpd);qsort(fr[k],R,8,cmpd);}
  printf("read+parse: A %.1f B %.1f | finish: A %.1f B %.1f | free: A %.2f B %.2f | total: A median %.1f min %.1f, B median %.1f min %.1f ms; ratio A/B %.2f; names same=%d\n",
    rd[0][R/2]*1e3, rd[1][R/2]*1e3, fin[0][R/2]*1e3,fin[1][R/2]*1e3, fr[0][R/2]*1e3, fr[1][R/2]*1e3, tot[0][R/2]*1e3, tot[0][0]*1e3, tot[1][R/2]*1e3, tot[1][0]*1e3, tot[0][R/2]/tot[1][R/2], nl[0]==nl[1]&&!memcmp(nb[0],nb[1],nl[0]));
  return 0;}
